# Aliases for ./dev, which is what a machine without make uses.
.PHONY: demo test setup
demo:
	./dev demo
test:
	./dev test
setup:
	./dev setup

"""Camera barcode scanner: the pure decode pipeline (`decode`), frame sources (`sources`) and the driver."""

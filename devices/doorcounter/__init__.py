"""Door (people) counters: frame codecs, the serial driver, the in/out delta primitive and a simulator."""

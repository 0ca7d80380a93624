"""Card-number readers: EM4100 125 kHz serial modules, plain line readers, and social-security cards (PC/SC)."""

"""Barcode scanners: serial/CDC line scanners and the keyboard-wedge assembler (the camera scanner lives in
`devices.camera`)."""

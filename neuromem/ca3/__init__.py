"""CA3 spiking content-addressable memory."""

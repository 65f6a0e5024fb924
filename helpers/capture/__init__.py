"""Capture: tcpdump at every interface along a path at once, decoded into `Frame`s with scapy.

A capture dies with its owner and keeps its pcaps in the world's run folder (`captures_root`);
`sweep` removes the folders of owners that are gone (helpers/capture/tcpdump.py says how)."""
from helpers.capture.decode import Frame, decode_packet, read_many, read_pcap
from helpers.capture.tcpdump import Capture, Point, captures_root, sweep

__all__ = ["Capture", "Point", "Frame", "decode_packet", "read_pcap", "read_many", "captures_root", "sweep"]

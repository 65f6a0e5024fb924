"""Capture: tcpdump at every interface along a path at once, decoded into `Frame`s with scapy."""
from helpers.capture.decode import Frame, decode_packet, read_many, read_pcap
from helpers.capture.tcpdump import Capture, Point

__all__ = ["Capture", "Point", "Frame", "decode_packet", "read_pcap", "read_many"]

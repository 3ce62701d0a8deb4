"""Media both ways: inbound fetch and understanding, the library and its sends."""

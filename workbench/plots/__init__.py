"""Plot docks of the filter design: polar plot, azimuth-frequency map, filter responses,
cancellation spectrum (pyqtgraph, theme-aware; figures export through matplotlib)."""

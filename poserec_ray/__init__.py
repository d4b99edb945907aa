"""PoseRec on Ray: corpus jobs on Ray Data and a Ray Serve application (imports Ray lazily)."""

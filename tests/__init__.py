"""PoseRec Live tests."""

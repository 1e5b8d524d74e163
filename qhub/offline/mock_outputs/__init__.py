"""Realistic mock outputs per cloud, merged by qhub.offline.mocks."""

"""placements"""

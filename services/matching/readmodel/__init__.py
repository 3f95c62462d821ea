"""readmodel"""

"""What every domain uses and none owns; imports no domain."""

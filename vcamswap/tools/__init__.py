"""What a user runs to see how VCamSwap does on their machine: bench, demo, doctor."""

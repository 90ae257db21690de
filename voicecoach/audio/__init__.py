"""Audio in and out behind small interfaces: live devices, WAV files, a scripted couple."""

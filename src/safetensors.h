/* src/safetensors.h - placeholder; being written (issue 5). */

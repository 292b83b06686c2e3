/* src/checkpoint.h - placeholder; being written (issue 5). */

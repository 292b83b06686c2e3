/* src/model.c - placeholder; being written (issue 5). */
#include "config.h"
#include "src/model.h"

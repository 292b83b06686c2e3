/*
 * vectors/sha256.h - SHA-256 of a byte buffer as lowercase hex (nettle).
 */
#ifndef INFINI_VECTORS_SHA256_H
#define INFINI_VECTORS_SHA256_H

#include <stddef.h>

/** Write the 64 hex digits and a terminating NUL to hex[65]. */
void vs_sha256_hex(const void *data, size_t len, char hex[65]);

#endif

/*
 * src/checkpoint.h - the checkpoint parser, exposed beside the public
 * infini_model_checkpoint_save/_load so a fuzz harness can feed it bytes
 * without going through a file. The format is docs/model.md, "Checkpoints".
 */
#ifndef INFINI_SRC_CHECKPOINT_H
#define INFINI_SRC_CHECKPOINT_H

#include <stddef.h>

#include "infini_model.h"

/** Bytes of a checkpoint before the per-layer data: magic, version,
 *  digest, config, tokens. */
#define CHECKPOINT_HEADER_BYTES 164
/** Bytes of the SHA-256 trailer. */
#define CHECKPOINT_TRAILER_BYTES 32

/**
 * Parse a whole checkpoint (len bytes) saved from @p model and restore it
 * into @p state. Everything is checked (magic, version, sizes, length,
 * checksum, config and digest) and decoded into temporary buffers before
 * the state is written, so on any error the state is unchanged.
 * @return INFINI_ERR_FORMAT, INFINI_ERR_VERSION or INFINI_ERR_MISMATCH with
 *         one sentence in err; INFINI_ERR_SHAPE when the state belongs to
 *         another model; INFINI_ERR_NOMEM.
 */
infini_status checkpoint_parse(const infini_model *model,
                               const unsigned char *bytes, size_t len,
                               infini_model_state *state, char *err,
                               size_t errlen);

#endif

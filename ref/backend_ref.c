/*
 * ref/backend_ref.c - the `ref` backend: the float build of the scalar
 * reference, behind the backend table every other backend implements.
 */
#include "ref/real.h"
#include "ref/ref.h"

static infini_availability ref_availability(void) { return INFINI_NATIVE; }

const infini_backend infini_backend_ref = {
    .abi_version = INFINI_ABI_VERSION,
    .struct_size = sizeof(infini_backend),
    .name = "ref",
    .description = "scalar reference (plain C loops, float accumulation)",
    .availability = ref_availability,
    .workspace_bytes = infini_ref_work_bytes_f32,
    .feature_map = infini_ref_feature_map_f32,
    .retrieve = infini_ref_retrieve_f32,
    .update_linear = infini_ref_update_linear_f32,
    .update_delta = infini_ref_update_delta_f32,
    .mix = infini_ref_mix_f32,
    .local_attention = infini_ref_local_attention_f32,
    .segment_step = infini_ref_segment_step_f32,
    .layer_step = infini_ref_layer_step_f32,
};

## The scalar reference: one source per operator, compiled twice.
## - libinfini_ref_f32: float, the `ref` backend inside libinfini.
## - libinfini_oracle:  double, the oracle the golden vectors come from
##   (linked into the tests and tools, not installed).
## ref/model_ops.c (the model's norms, projections, RoPE, SwiGLU) follows
## the same rule: float inside libinfini, double in the oracle.
ref_sources = \
	ref/real.h ref/ref.h \
	ref/feature_map.c \
	ref/retrieve.c \
	ref/update_linear.c \
	ref/update_delta.c \
	ref/mix.c \
	ref/local_attention.c \
	ref/segment_step.c \
	ref/layer_step.c \
	ref/model_ops.h ref/model_ops.c

noinst_LTLIBRARIES += ref/libinfini_ref_f32.la ref/libinfini_oracle.la
ref_libinfini_ref_f32_la_SOURCES = $(ref_sources) ref/backend_ref.c
ref_libinfini_ref_f32_la_CPPFLAGS = $(AM_CPPFLAGS) -DINFINI_REAL_F32
## The float reference computes what its source says on every platform:
## no silent FMA contraction (see the oracle below).
ref_libinfini_ref_f32_la_CFLAGS = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)
## The oracle must give the same bits everywhere (the golden vectors are
## regenerated and compared byte for byte): its exp is ref/exp_oracle.c,
## and no multiply-add may be contracted into an FMA (GCC's default in GNU
## C mode on Arm, POWER, s390x).
## Its RoPE angles use ref/trig_oracle.c's sin, cos and log for the same
## reason. ref/model_oracle.c is the whole model in double (docs/model.md).
ref_libinfini_oracle_la_SOURCES = $(ref_sources) ref/exp_oracle.c \
	ref/trig_oracle.c ref/model_oracle.h ref/model_oracle.c
ref_libinfini_oracle_la_CPPFLAGS = $(AM_CPPFLAGS) -DINFINI_REAL_F64
ref_libinfini_oracle_la_CFLAGS = $(AM_CFLAGS) $(FP_CONTRACT_OFF_CFLAGS)

## The model's document: ref/model_ops.c and ref/model_oracle.c are its
## executable form in double, as ref/ is the spec's.
dist_doc_DATA += docs/model.md

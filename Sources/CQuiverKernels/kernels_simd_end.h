/* Ends one instruction set's instantiation of kernels_simd_body.h: clears the parameters that
 * kernels_simd.c defines before each #include of the body, so the next one starts clean. */
#undef QV_VW
#undef QV_VF
#undef QV_VB
#undef QV_VI
#undef QV_TILE_R
#undef QV_TILE_Q
#undef QV_L2_TILE_R
#undef QV_L2_TILE_Q
#undef QV_TILE_MAX
#undef QV_OP_R
#undef QV_OP_L2_R
#undef QV_OP_R_MAX
#undef QV_MS_R
#undef QV_MS_Q
#undef QV_FN
#undef QV_ISA_NAME

/*
 * apply_local.h: outcome operations as store records, shared by apply.c
 * and state_mem.c.  The *_record functions borrow the op's byte strings
 * and allocate the text fields; the *_clear functions free what they
 * allocated.
 */
#ifndef SKD_ENGINE_APPLY_LOCAL_H
#define SKD_ENGINE_APPLY_LOCAL_H

#include "engine/engine_local.h"

int eng_op_gl_record(struct skd_store_gl *out, const SKD_ENG_OP *op);
void eng_op_gl_record_clear(struct skd_store_gl *r);
int eng_same_gl(const struct skd_store_gl *a, const struct skd_store_gl *b);
int eng_op_member_record(struct skd_store_member *out, const SKD_ENG_OP *op);
void eng_op_member_record_clear(struct skd_store_member *m);
int eng_op_glkey_record(struct skd_store_glkey *out, const SKD_ENG_OP *op);
void eng_op_glkey_record_clear(struct skd_store_glkey *k);
void eng_strs_free(char **v, size_t n);
const char *eng_msg_kind_name(long kind);

#endif

/*
 * The handful of string and memory routines uhv needs. The compiler may
 * also emit calls to memcpy/memset itself, so these keep the libc names.
 */
#ifndef UHV_LIB_STRING_H
#define UHV_LIB_STRING_H

#include "lib/types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (size > 0). */
void str_copy(char *dst, const char *src, size_t size);

#endif

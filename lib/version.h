/*
 * uhv's version, defined once. The control channel says it as a string
 * in its greeting and its version reply ("uhv":"0.2", docs/protocol.md);
 * a guest reads it as a number from VMCALL 0, (major << 16) | minor, the
 * encoding of Xen's XENVER_version (2 for 0.2).
 */
#ifndef UHV_LIB_VERSION_H
#define UHV_LIB_VERSION_H

#define UHV_VERSION_MAJOR 0
#define UHV_VERSION_MINOR 2

#define UHV_VERSION_STR_(x) #x
#define UHV_VERSION_STR(x) UHV_VERSION_STR_(x)
/* "0.2" */
#define UHV_VERSION_STRING \
	UHV_VERSION_STR(UHV_VERSION_MAJOR) "." UHV_VERSION_STR(UHV_VERSION_MINOR)
/* VMCALL 0's answer */
#define UHV_VERSION_NUMBER ((UHV_VERSION_MAJOR << 16) | UHV_VERSION_MINOR)

#endif

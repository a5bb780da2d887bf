/* abi.h - every number of the uhv Guest ABI (docs/interfaces.md), named once.
 * Shared by C (included) and kept in step with crt0.asm by hand. */
#ifndef GUEST_ABI_H
#define GUEST_ABI_H

/* Multiboot v1 */
#define MB_BOOT_MAGIC        0x2BADB002u  /* EAX on entry */
#define MB_INFO_MEM          (1u << 0)    /* mem_lower/mem_upper valid */
#define MB_INFO_CMDLINE      (1u << 2)    /* cmdline valid */
#define MB_INFO_MMAP         (1u << 6)    /* mmap_addr/mmap_length valid */
#define MB_MMAP_AVAILABLE    1u           /* mmap entry type: usable RAM */
#define MB_MEM_UPPER_BASE    0x100000u    /* mem_upper counts KiB from 1 MiB */

/* Sizes */
#define KIB                  1024u
#define MIB                  (1024u * 1024u)
#define PAGE_SIZE            4096u

/* 16550 UART, COM1 */
#define UART_BASE            0x3F8
#define UART_THR             (UART_BASE + 0)  /* transmit holding register */
#define UART_RBR             (UART_BASE + 0)  /* receive buffer (reads) */
#define UART_LSR             (UART_BASE + 5)  /* line status register */
#define UART_LSR_THRE        0x20             /* THR empty: may write a byte */
#define UART_LSR_DR          0x01             /* data ready: a byte in RBR */
#define UART_POLL_LIMIT      100000u          /* then write anyway */

/* isa-debug-exit: writing v stops the VM with status (v << 1) | 1 */
#define DEBUG_EXIT_PORT      0xF4
#define DEBUG_EXIT_PASS      0u
#define DEBUG_EXIT_FAIL      1u

/* fw_cfg (legacy I/O interface) */
#define FW_CFG_PORT_SEL      0x510        /* 16-bit selector */
#define FW_CFG_PORT_DATA     0x511        /* 8-bit data */
#define FW_CFG_SIGNATURE     0x0000       /* "QEMU" */
#define FW_CFG_RAM_SIZE      0x0003       /* u64, little endian */
#define FW_CFG_NB_CPUS       0x0005       /* u16, little endian */
#define FW_CFG_SIG_VALUE     "QEMU"       /* what FW_CFG_SIGNATURE holds */
#define FW_CFG_SIG_LEN       4

/* CPUID */
#define CPUID_LEAF_FEATURES  0x00000001u
#define CPUID_ECX_VMX        (1u << 5)
#define CPUID_ECX_HYPERVISOR (1u << 31)
#define CPUID_LEAF_HV_BASE   0x40000000u  /* hypervisor vendor leaf */
#define UHV_SIGNATURE        "uhv\0uhv\0uhv\0"
#define UHV_SIGNATURE_LEN    12

/* Reads from nothing on the bus */
#define BUS_FLOAT            0xFFFFFFFFu

#endif

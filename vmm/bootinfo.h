/*
 * What the UEFI loader hands to the hypervisor core: the machine as the
 * firmware described it, the parsed configuration, and where each guest's
 * image and RAM were placed. Everything here lives in EfiLoaderData pages,
 * which the core never gives out again.
 */
#ifndef UHV_BOOT_BOOTINFO_H
#define UHV_BOOT_BOOTINFO_H

#include "lib/types.h"
#include "vmm/config.h"

#define BOOTINFO_MAGIC 0x6f666e69766875ULL  /* "uhvinfo" */
#define BOOTINFO_MAX_REGIONS 256

/* The core's virtual base (linker.ld); the loader maps it there. */
#define CORE_VIRT_BASE 0xffffffff80000000ULL

/* A range of physical memory that uhv may use for itself. */
struct boot_region {
	u64 base;
	u64 size;
};

struct boot_vm {
	u64 image_phys;   /* the image file's bytes, as read from the ESP */
	u64 image_size;
	u64 ram_phys;     /* the VM's RAM: contiguous, 2 MiB aligned, zeroed */
	u64 initrd_phys;  /* the initrd file, if the config names one */
	u64 initrd_size;
	u64 disk_phys[CFG_MAX_DISKS];   /* disk images, loaded whole */
	u64 disk_size[CFG_MAX_DISKS];
};

/* A file of the images folder (config key images), loaded whole. */
#define BOOT_MAX_FILES 32
struct boot_file {
	char name[CFG_PATH_MAX];   /* relative to \uhv\, e.g. "images/a.elf" */
	u64 phys;
	u64 size;
};

struct boot_info {
	u64 magic;
	u64 core_phys;          /* where the core's image starts */
	u64 core_size;
	u64 pml4_phys;          /* the page tables the loader built for uhv */
	u64 efi_runtime;        /* EFI_RUNTIME_SERVICES *, for power off */
	u64 acpi_rsdp;          /* 0 when the firmware published none */
	u64 loader_tsc;         /* TSC when the loader started */
	u64 tsc_hz;             /* measured against the firmware's Stall() */
	u64 boot_epoch;         /* wall clock (s since 1970, UTC) at boot_tsc */
	u64 boot_tsc;
	u32 nr_cpus;            /* from EFI MP Services; 1 if absent */
	u32 nr_regions;
	struct boot_region free[BOOTINFO_MAX_REGIONS];
	struct uhv_config config;
	struct boot_vm vms[CFG_MAX_VMS];
	u32 nr_files;
	struct boot_file files[BOOT_MAX_FILES];
	u64 reserve_phys;       /* config key reserve: 2 MiB aligned, zeroed */
	u64 reserve_size;
};

#endif

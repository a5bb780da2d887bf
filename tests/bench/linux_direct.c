/*
 * linux_direct.efi: the baseline of make bench's Linux boot figure. A
 * UEFI application in uhv's place on the ESP: it boots the test guest's
 * kernel (its EFI stub) with the same initramfs straight from the
 * firmware, with no hypervisor, and says when it started. /init then
 * prints the TSC (uhv.direct), so that "this application's entry to
 * /init" sits beside "uhv's loader entry to /init" on the same clock:
 * under Bochs, instructions since power-on (tools/bench-linux.sh).
 *
 * The kernel and initramfs are \uhv\vmlinuz and \uhv\initrd.gz on the
 * application's own volume (tools/uhv-run --files puts them there); the
 * EFI stub loads the initramfs named by initrd= (Linux's
 * Documentation/admin-guide/efi-stub.rst).
 */
#include <efi.h>
#include <efilib.h>

#define KERNEL  L"\\uhv\\vmlinuz"

static CHAR16 options[] =
	L"initrd=\\uhv\\initrd.gz console=ttyS0 quiet uhv.direct";

static UINT64 rdtsc(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (UINT64)hi << 32 | lo;
}

/* Loads the kernel from our own volume and gives it its command line. */
static EFI_STATUS load_kernel(EFI_HANDLE image, EFI_HANDLE *kernel)
{
	EFI_LOADED_IMAGE *li, *kli;
	EFI_DEVICE_PATH *path;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image,
			       &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	path = FileDevicePath(li->DeviceHandle, KERNEL);
	if (!path)
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, path, NULL, 0,
			       kernel);
	if (EFI_ERROR(st))
		return st;
	st = uefi_call_wrapper(BS->HandleProtocol, 3, *kernel,
			       &LoadedImageProtocol, (void **)&kli);
	if (EFI_ERROR(st))
		return st;
	kli->LoadOptions = options;
	kli->LoadOptionsSize = sizeof(options);
	return EFI_SUCCESS;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	UINT64 t0 = rdtsc();
	EFI_HANDLE kernel;
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(L"linux-direct: entry tsc %lu\n", t0);
	st = load_kernel(image, &kernel);
	if (EFI_ERROR(st)) {
		Print(L"linux-direct: cannot load %s: %r\n", KERNEL, st);
		return st;
	}
	st = uefi_call_wrapper(BS->StartImage, 3, kernel, NULL, NULL);
	Print(L"linux-direct: the kernel returned: %r\n", st);
	return st;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ovs queue id (doc/collectors.md §8.4): jhash() of the first 64 bytes
 * of a packet, zero-padded, with initval 0. The kernel side (the ovs hooks)
 * and the userspace side (ovs-vswitchd's copy of the packet) must compute
 * it byte for byte the same, so both include this one definition.
 *
 * jhash() is the kernel's (include/linux/jhash.h), Bob Jenkins' lookup3
 * hash: 32-bit words are read little-endian here, which is what the
 * kernel's native loads give on the little-endian hosts retisc runs on,
 * and keeps the two sides equal wherever they run. Plain header: fixed-
 * width types only (the BPF side has them from vmlinux.h).
 */
#ifndef __RETISC_OVS_JHASH_H
#define __RETISC_OVS_JHASH_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Bytes of a packet the queue id covers (Retis's PACKET_HASH_SIZE). */
#define RETISC_OVS_HASH_SIZE 64
#define RETISC_JHASH_INITVAL 0xdeadbeefU

#ifdef __BPF__
#define RETISC_JHASH_FN static __always_inline
#else
#define RETISC_JHASH_FN static inline
#endif

#define retisc_rol32(x, s) (((x) << (s)) | ((x) >> (32 - (s))))

#define retisc_jhash_mix(a, b, c)                                                                  \
	do {                                                                                       \
		a -= c;                                                                            \
		a ^= retisc_rol32(c, 4);                                                           \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= retisc_rol32(a, 6);                                                           \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= retisc_rol32(b, 8);                                                           \
		b += a;                                                                            \
		a -= c;                                                                            \
		a ^= retisc_rol32(c, 16);                                                          \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= retisc_rol32(a, 19);                                                          \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= retisc_rol32(b, 4);                                                           \
		b += a;                                                                            \
	} while (0)

#define retisc_jhash_final(a, b, c)                                                                \
	do {                                                                                       \
		c ^= b;                                                                            \
		c -= retisc_rol32(b, 14);                                                          \
		a ^= c;                                                                            \
		a -= retisc_rol32(c, 11);                                                          \
		b ^= a;                                                                            \
		b -= retisc_rol32(a, 25);                                                          \
		c ^= b;                                                                            \
		c -= retisc_rol32(b, 16);                                                          \
		a ^= c;                                                                            \
		a -= retisc_rol32(c, 4);                                                           \
		b ^= a;                                                                            \
		b -= retisc_rol32(a, 14);                                                          \
		c ^= b;                                                                            \
		c -= retisc_rol32(b, 24);                                                          \
	} while (0)

/* An unaligned little-endian 32-bit word. */
RETISC_JHASH_FN __u32 retisc_jhash_le32(const __u8 *k)
{
	return (__u32)k[0] | (__u32)k[1] << 8 | (__u32)k[2] << 16 | (__u32)k[3] << 24;
}

/*
 * jhash(k, length, initval). The BPF side only calls it with a constant
 * length (RETISC_OVS_HASH_SIZE), for which the compiler unrolls the loop
 * and drops the tail cases.
 */
RETISC_JHASH_FN __u32 retisc_jhash(const __u8 *k, __u32 length, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = RETISC_JHASH_INITVAL + length + initval;
	for (; length > 12; length -= 12, k += 12) {
		a += retisc_jhash_le32(k);
		b += retisc_jhash_le32(k + 4);
		c += retisc_jhash_le32(k + 8);
		retisc_jhash_mix(a, b, c);
	}
	/* The last 1-12 bytes; none: c as it is (the kernel's case 0). */
	switch (length) {
	case 12:
		c += (__u32)k[11] << 24;
		/* fall through */
	case 11:
		c += (__u32)k[10] << 16;
		/* fall through */
	case 10:
		c += (__u32)k[9] << 8;
		/* fall through */
	case 9:
		c += k[8];
		/* fall through */
	case 8:
		b += (__u32)k[7] << 24;
		/* fall through */
	case 7:
		b += (__u32)k[6] << 16;
		/* fall through */
	case 6:
		b += (__u32)k[5] << 8;
		/* fall through */
	case 5:
		b += k[4];
		/* fall through */
	case 4:
		a += (__u32)k[3] << 24;
		/* fall through */
	case 3:
		a += (__u32)k[2] << 16;
		/* fall through */
	case 2:
		a += (__u32)k[1] << 8;
		/* fall through */
	case 1:
		a += k[0];
		retisc_jhash_final(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/*
 * The queue id of a packet of len bytes at data (userspace side): at most
 * RETISC_OVS_HASH_SIZE bytes into a zeroed buffer, then jhash with
 * initval 0.
 */
#ifndef __BPF__
static inline __u32 retisc_ovs_queue_id(const void *data, __u32 len)
{
	__u8 buf[RETISC_OVS_HASH_SIZE] = {0};
	const __u8 *p = data;

	for (__u32 i = 0; i < len && i < RETISC_OVS_HASH_SIZE; i++)
		buf[i] = p[i];
	return retisc_jhash(buf, RETISC_OVS_HASH_SIZE, 0);
}
#endif

#endif

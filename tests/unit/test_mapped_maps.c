/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's mappings of real BPF maps (needs root and BPF; fails without): a ring the
 * kernel itself fills (a socket filter's bpf_ringbuf_output, run with BPF_PROG_TEST_RUN) is read
 * back record by record across the ring's end, and descriptors that are not what the loader
 * said are refused.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ct_test.h"
#include "kernel_counters.h"
#include "ring_reader.h"

#define RING 4096u

struct seen {
	size_t n, bad;
};

static void check_record(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;
	uint32_t words[4];

	memcpy(words, data, sizeof(words));
	if (size != 16 || words[0] != 0x11223344 || words[1] != 0 || words[2] != 0x55667788 ||
	    words[3] != 0)
		s->bad++;
	s->n++;
}

/* A socket filter writing 16 bytes to the ring per run. */
static int load_writer(int ring_fd)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ST | BPF_MEM | BPF_DW,
	     .dst_reg = BPF_REG_10,
	     .off = -16,
	     .imm = 0x11223344},
	    {.code = BPF_ST | BPF_MEM | BPF_DW,
	     .dst_reg = BPF_REG_10,
	     .off = -8,
	     .imm = 0x55667788},
	    {.code = BPF_LD | BPF_DW | BPF_IMM,
	     .dst_reg = BPF_REG_1,
	     .src_reg = BPF_PSEUDO_MAP_FD,
	     .imm = ring_fd},
	    {},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10},
	    {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -16},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 16},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = 0},
	    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ringbuf_output},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "ct_ring_test", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static int run_writer(int prog, unsigned times)
{
	uint8_t packet[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = times);

	return bpf_prog_test_run_opts(prog, &opts);
}

static void test_kernel_written_records_read_back_across_the_end(void)
{
	int ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ct_ring_test", 0, 0, RING, NULL);
	int prog = ring >= 0 ? load_writer(ring) : -1;
	struct handoff_fds fds = {.n_rings = 1, .ring_size = RING, .rings = {ring}};
	struct ring_reader reader;
	struct seen s = {};

	CHECK(ring >= 0);
	CHECK(prog >= 0);
	if (prog < 0)
		return;
	CHECK(ring_reader_open(&fds, check_record, &s, &reader) == 0);
	/* 24 bytes a record: 150 fill 3600 of 4096, the next 150 wrap the end once */
	for (int round = 0; round < 4; round++) {
		CHECK(run_writer(prog, 150) == 0);
		CHECK_U64(ring_view_pending(&reader.rings[0]), 150 * 24);
		CHECK_U64(ring_reader_consume(&reader), 150);
	}
	CHECK_U64(s.n, 600);
	CHECK_U64(s.bad, 0);
	CHECK_U64(*reader.rings[0].consumer, 600 * 24);
	ring_reader_close(&reader);
	close(prog);
	close(ring);
}

static void test_a_ring_of_another_size_or_kind_is_refused(void)
{
	int ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ct_ring_test", 0, 0, 2 * RING, NULL);
	int array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ct_array_test", 4, 8, 4, NULL);
	struct handoff_fds fds = {.n_rings = 1, .rings = {ring}};
	struct ring_reader reader;

	CHECK(ring >= 0 && array >= 0);
	fds.ring_size = RING;
	CHECK_U64(ring_reader_open(&fds, check_record, NULL, &reader), -EBADF);
	fds.ring_size = 4 * RING;
	CHECK_U64(ring_reader_open(&fds, check_record, NULL, &reader), -EBADF);
	fds.ring_size = 2 * RING;
	CHECK(ring_reader_open(&fds, check_record, NULL, &reader) == 0);
	ring_reader_close(&reader);
	fds.rings[0] = array;
	CHECK_U64(ring_reader_open(&fds, check_record, NULL, &reader), -EBADF);
	close(ring);
	close(array);
}

static void test_counters_summed_over_rows_and_short_maps_refused(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);
	uint32_t rows = 3, entries = rows * CLEARTAP_COUNTER_STRIDE;
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ct_counters_t", 4, 8, entries, &mmapable);
	int plain = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ct_plain_test", 4, 8, entries, NULL);
	uint64_t sums[CLEARTAP_CNT__MAX];
	struct kernel_counters counters;

	CHECK(map >= 0 && plain >= 0);
	for (uint32_t row = 0; row < rows; row++) {
		uint32_t key = row * CLEARTAP_COUNTER_STRIDE + CLEARTAP_CNT_CHUNKS;
		uint64_t value = 10 + row;

		CHECK(bpf_map_update_elem(map, &key, &value, BPF_ANY) == 0);
		key = row * CLEARTAP_COUNTER_STRIDE + CLEARTAP_CNT__MAX - 1;
		value = 1000;
		CHECK(bpf_map_update_elem(map, &key, &value, BPF_ANY) == 0);
	}
	CHECK(kernel_counters_open(map, rows, &counters) == 0);
	kernel_counters_read(&counters, sums);
	CHECK_U64(sums[CLEARTAP_CNT_CHUNKS], 10 + 11 + 12);
	CHECK_U64(sums[CLEARTAP_CNT__MAX - 1], 3000);
	CHECK_U64(sums[CLEARTAP_CNT_CALLS], 0);
	kernel_counters_close(&counters);
	/* 3 rows fit one page: 100 rows would not */
	CHECK_U64(kernel_counters_open(map, 100, &counters), -EBADF);
	CHECK_U64(kernel_counters_open(plain, rows, &counters), -EBADF);
	close(map);
	close(plain);
}

int main(void)
{
	RUN(test_kernel_written_records_read_back_across_the_end);
	RUN(test_a_ring_of_another_size_or_kind_is_refused);
	RUN(test_counters_summed_over_rows_and_short_maps_refused);
	return TEST_EXIT();
}

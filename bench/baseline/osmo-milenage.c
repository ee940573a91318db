/*
 * Baseline for `npm run bench` (bench/milenage.bench.ts): libosmocore's C Milenage through its
 * public API, osmo_auth_gen_vec(), one vector per call for a different subscriber each time.
 * Prints the median rate of 5 rounds of ROUND_MS as "<av_per_s>".
 * Build: cc -O2 osmo-milenage.c -losmogsm -losmocore -o osmo-milenage
 */
#include <osmocom/crypt/auth.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBSCRIBERS 4096
#define ROUND_MS 400

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static struct osmo_sub_auth_data aud[SUBSCRIBERS];
	static uint8_t rand_[SUBSCRIBERS][16];
	struct osmo_auth_vector vec;
	uint32_t x = 12345;
	double rates[5];

	for (int i = 0; i < SUBSCRIBERS; i++) {
		aud[i].type = OSMO_AUTH_TYPE_UMTS;
		aud[i].algo = OSMO_AUTH_ALG_MILENAGE;
		for (int b = 0; b < 16; b++) {
			x = x * 1103515245u + 12345u;
			aud[i].u.umts.k[b] = x >> 24;
			x = x * 1103515245u + 12345u;
			aud[i].u.umts.opc[b] = x >> 24;
			x = x * 1103515245u + 12345u;
			rand_[i][b] = x >> 24;
		}
		aud[i].u.umts.amf[0] = 0x80;
		aud[i].u.umts.ind_bitlen = 5;
		aud[i].u.umts.sqn = 32 * i;
	}
	unsigned n = 0;
	for (int r = 0; r < 5; r++) {
		double start = now_s(), t;
		unsigned long count = 0;
		do {
			for (int j = 0; j < 256; j++, n++) {
				if (osmo_auth_gen_vec(&vec, &aud[n % SUBSCRIBERS], rand_[n % SUBSCRIBERS]) != 0)
					return 1;
			}
			count += 256;
			t = now_s();
		} while (t - start < ROUND_MS / 1000.0);
		rates[r] = count / (t - start);
	}
	qsort(rates, 5, sizeof(double), cmp);
	printf("%.0f\n", rates[2]);
	return 0;
}

/*
 * Host self-test of openimu_packet.c: the worked example of open-profile.md written out
 * literally, encode/decode round trips, and a pseudo-random decode fuzz (run under
 * AddressSanitizer/UndefinedBehaviorSanitizer by tests/test_openimu_c.py).
 *
 *   cc -std=c99 -Wall -Wextra -Werror test/test_openimu_packet.c openimu_packet.c && ./a.out
 *
 * Part of the imu project (MIT licence).
 */
#include <stdio.h>
#include <string.h>

#include "../openimu_packet.h"

static int failures = 0;

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
            ++failures;                                                  \
        }                                                                \
    } while (0)

/* open-profile.md, "Worked example": two samples at 104 Hz, +-8 g, +-2000 deg/s. */
static const uint8_t HAND[36] = {
    0x01, 0x02, 0x34, 0x12, 0x4e, 0x61, 0xbc, 0x00, 0x42, 0x00, 0x10, 0x04,
    0x00, 0x00, 0x00, 0xf8, 0x00, 0x10, 0xa4, 0x00, 0x00, 0x00, 0x5c, 0xff,
    0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0x7f};
static const openimu_sample HAND_SAMPLES[2] = {
    {{0, -2048, 4096}, {164, 0, -164}},
    {{-32768, 32767, 1}, {256, -256, 32767}}};

static void test_hand_vector(void)
{
    openimu_header hdr = {2u, 0x1234u, 12345678u, 2u, 4u, 0u, 1040u};
    uint8_t out[64];
    openimu_header back;
    openimu_sample samples[2];
    int n = openimu_encode_packet(&hdr, HAND_SAMPLES, out, sizeof out);
    CHECK(n == (int)sizeof HAND);
    CHECK(memcmp(out, HAND, sizeof HAND) == 0);
    CHECK(openimu_decode_packet(HAND, sizeof HAND, &back, samples, 2u) == 2);
    CHECK(back.sequence == 0x1234u && back.device_time_us == 12345678u);
    CHECK(back.acc_range_code == 2u && back.gyr_range_code == 4u && back.rate_dhz == 1040u);
    CHECK(memcmp(samples, HAND_SAMPLES, sizeof samples) == 0);
}

static void test_rejections(void)
{
    uint8_t bad[sizeof HAND];
    openimu_header hdr;
    openimu_sample samples[OPENIMU_MAX_SAMPLES];
    memcpy(bad, HAND, sizeof bad);
    CHECK(openimu_decode_packet(bad, sizeof bad - 1u, &hdr, samples, 41u) == OPENIMU_ERR_LENGTH);
    bad[0] = 2u;
    CHECK(openimu_decode_packet(bad, sizeof bad, &hdr, samples, 41u) == OPENIMU_ERR_VERSION);
    bad[0] = 1u;
    bad[8] = 0x52u;
    CHECK(openimu_decode_packet(bad, sizeof bad, &hdr, samples, 41u) == OPENIMU_ERR_RANGE);
    bad[8] = 0x42u;
    bad[9] = 0x80u;
    CHECK(openimu_decode_packet(bad, sizeof bad, &hdr, samples, 41u) == OPENIMU_ERR_FLAGS);
    bad[9] = 0u;
    bad[10] = 0u;
    bad[11] = 0u;
    CHECK(openimu_decode_packet(bad, sizeof bad, &hdr, samples, 41u) == OPENIMU_ERR_VALUE);
}

static void test_config(void)
{
    static const uint8_t START_104[OPENIMU_CONFIG_SIZE] = {0x01, 0x01, 0x10, 0x04, 0x42, 0x28};
    openimu_config cfg = {OPENIMU_COMMAND_START, 1040u, 2u, 4u, 40u};
    openimu_config back;
    uint8_t out[OPENIMU_CONFIG_SIZE];
    CHECK(openimu_encode_config(&cfg, out, sizeof out) == (int)OPENIMU_CONFIG_SIZE);
    CHECK(memcmp(out, START_104, sizeof out) == 0);
    CHECK(openimu_decode_config(out, sizeof out, &back) == OPENIMU_OK);
    CHECK(back.command == cfg.command && back.rate_dhz == cfg.rate_dhz);
    CHECK(back.max_latency_ms == 40u);
}

static void test_mtu(void)
{
    CHECK(openimu_max_samples(23u) == 0u);
    CHECK(openimu_max_samples(27u) == 1u);
    CHECK(openimu_max_samples(247u) == 19u);
    CHECK(openimu_max_samples(517u) == OPENIMU_MAX_SAMPLES);
}

/* xorshift32: deterministic pseudo-random bytes without the C library's rand(). */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void test_decode_fuzz(void)
{
    uint8_t buf[OPENIMU_MAX_ATTRIBUTE_SIZE];
    openimu_header hdr;
    openimu_sample samples[OPENIMU_MAX_SAMPLES];
    uint32_t state = 0x12345678u;
    long accepted = 0;
    long round;
    for (round = 0; round < 200000L; ++round) {
        size_t len = (size_t)(next_random(&state) % (OPENIMU_MAX_ATTRIBUTE_SIZE + 1u));
        size_t i;
        int status;
        for (i = 0; i < len; ++i) {
            buf[i] = (uint8_t)next_random(&state);
        }
        if (len >= 2u && (round & 1L) == 0L) { /* make half the inputs plausible */
            buf[0] = 1u;
            len = OPENIMU_HEADER_SIZE + OPENIMU_SAMPLE_SIZE * (size_t)(1u + len % 41u);
            buf[1] = (uint8_t)((len - OPENIMU_HEADER_SIZE) / OPENIMU_SAMPLE_SIZE);
            for (i = 2; i < len; ++i) {
                buf[i] = (uint8_t)next_random(&state);
            }
            buf[8] = (uint8_t)((buf[8] & 0x03u) | ((buf[8] >> 4) % 5u) << 4);
            buf[9] &= 0x01u;
        }
        status = openimu_decode_packet(buf, len, &hdr, samples, OPENIMU_MAX_SAMPLES);
        if (status > 0) {
            uint8_t again[OPENIMU_MAX_ATTRIBUTE_SIZE];
            ++accepted;
            CHECK((size_t)status == (len - OPENIMU_HEADER_SIZE) / OPENIMU_SAMPLE_SIZE);
            CHECK(openimu_encode_packet(&hdr, samples, again, sizeof again) == (int)len);
            CHECK(memcmp(again, buf, len) == 0);
        }
    }
    CHECK(accepted > 1000L);
    printf("fuzz: %ld of 200000 inputs accepted, each re-encoded to identical bytes\n", accepted);
}

int main(void)
{
    test_hand_vector();
    test_rejections();
    test_config();
    test_mtu();
    test_decode_fuzz();
    if (failures != 0) {
        printf("%d OpenIMU C check(s) failed\n", failures);
        return 1;
    }
    printf("all OpenIMU C checks passed\n");
    return 0;
}

/*
 * OpenIMU packet encoder/decoder — see openimu_packet.h and firmware_notes/open-profile.md.
 * Part of the imu project (MIT licence).
 */
#include "openimu_packet.h"

static const uint16_t ACC_RANGE_G[OPENIMU_ACC_RANGE_CODES] = {2u, 4u, 8u, 16u};
static const uint16_t GYR_RANGE_DEG_S[OPENIMU_GYR_RANGE_CODES] = {125u, 250u, 500u, 1000u,
                                                                  2000u};

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static void put_i16(uint8_t *p, int16_t v)
{
    /* signed -> unsigned conversion is defined modulo 2^16: the two's complement bits */
    put_u16(p, (uint16_t)v);
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static int16_t get_i16(const uint8_t *p)
{
    uint16_t u = get_u16(p);
    return (int16_t)(u < 0x8000u ? (int32_t)u : (int32_t)u - 65536L);
}

static int ranges_valid(uint8_t acc_code, uint8_t gyr_code)
{
    return acc_code < OPENIMU_ACC_RANGE_CODES && gyr_code < OPENIMU_GYR_RANGE_CODES;
}

size_t openimu_max_samples(uint16_t mtu)
{
    size_t room;
    size_t n;
    if (mtu < OPENIMU_MIN_MTU) {
        return 0u;
    }
    room = (size_t)mtu - OPENIMU_ATT_HEADER_SIZE - OPENIMU_HEADER_SIZE;
    n = room / OPENIMU_SAMPLE_SIZE;
    return n > OPENIMU_MAX_SAMPLES ? OPENIMU_MAX_SAMPLES : n;
}

int openimu_encode_packet(const openimu_header *hdr, const openimu_sample *samples,
                          uint8_t *out, size_t out_size)
{
    size_t i;
    size_t k;
    size_t total;
    uint8_t *p;
    if (hdr->count == 0u || hdr->count > OPENIMU_MAX_SAMPLES) {
        return OPENIMU_ERR_COUNT;
    }
    if (!ranges_valid(hdr->acc_range_code, hdr->gyr_range_code)) {
        return OPENIMU_ERR_RANGE;
    }
    if ((hdr->flags & (uint8_t)~OPENIMU_FLAG_DEVICE_OVERRUN) != 0u) {
        return OPENIMU_ERR_FLAGS;
    }
    if (hdr->rate_dhz == 0u) {
        return OPENIMU_ERR_VALUE;
    }
    total = OPENIMU_HEADER_SIZE + OPENIMU_SAMPLE_SIZE * (size_t)hdr->count;
    if (out_size < total) {
        return OPENIMU_ERR_BUFFER;
    }
    out[0] = (uint8_t)OPENIMU_FORMAT_VERSION;
    out[1] = hdr->count;
    put_u16(out + 2, hdr->sequence);
    put_u32(out + 4, hdr->device_time_us);
    out[8] = (uint8_t)(hdr->acc_range_code | (hdr->gyr_range_code << 4));
    out[9] = hdr->flags;
    put_u16(out + 10, hdr->rate_dhz);
    p = out + OPENIMU_HEADER_SIZE;
    for (i = 0; i < hdr->count; ++i) {
        for (k = 0; k < 3u; ++k) {
            put_i16(p + 2u * k, samples[i].acc[k]);
            put_i16(p + 6u + 2u * k, samples[i].gyr[k]);
        }
        p += OPENIMU_SAMPLE_SIZE;
    }
    return (int)total;
}

int openimu_decode_packet(const uint8_t *data, size_t len, openimu_header *hdr,
                          openimu_sample *samples, size_t max_samples)
{
    size_t i;
    size_t k;
    const uint8_t *p;
    if (len < OPENIMU_HEADER_SIZE) {
        return OPENIMU_ERR_LENGTH;
    }
    if (data[0] != OPENIMU_FORMAT_VERSION) {
        return OPENIMU_ERR_VERSION;
    }
    hdr->count = data[1];
    if (hdr->count == 0u || hdr->count > OPENIMU_MAX_SAMPLES) {
        return OPENIMU_ERR_COUNT;
    }
    if (len != OPENIMU_HEADER_SIZE + OPENIMU_SAMPLE_SIZE * (size_t)hdr->count) {
        return OPENIMU_ERR_LENGTH;
    }
    hdr->sequence = get_u16(data + 2);
    hdr->device_time_us = get_u32(data + 4);
    hdr->acc_range_code = (uint8_t)(data[8] & 0x0Fu);
    hdr->gyr_range_code = (uint8_t)(data[8] >> 4);
    hdr->flags = data[9];
    hdr->rate_dhz = get_u16(data + 10);
    if (!ranges_valid(hdr->acc_range_code, hdr->gyr_range_code)) {
        return OPENIMU_ERR_RANGE;
    }
    if ((hdr->flags & (uint8_t)~OPENIMU_FLAG_DEVICE_OVERRUN) != 0u) {
        return OPENIMU_ERR_FLAGS;
    }
    if (hdr->rate_dhz == 0u) {
        return OPENIMU_ERR_VALUE;
    }
    if (hdr->count > max_samples) {
        return OPENIMU_ERR_BUFFER;
    }
    p = data + OPENIMU_HEADER_SIZE;
    for (i = 0; i < hdr->count; ++i) {
        for (k = 0; k < 3u; ++k) {
            samples[i].acc[k] = get_i16(p + 2u * k);
            samples[i].gyr[k] = get_i16(p + 6u + 2u * k);
        }
        p += OPENIMU_SAMPLE_SIZE;
    }
    return (int)hdr->count;
}

int openimu_encode_config(const openimu_config *cfg, uint8_t *out, size_t out_size)
{
    if (out_size < OPENIMU_CONFIG_SIZE) {
        return OPENIMU_ERR_BUFFER;
    }
    if (!ranges_valid(cfg->acc_range_code, cfg->gyr_range_code)) {
        return OPENIMU_ERR_RANGE;
    }
    if (cfg->command > OPENIMU_COMMAND_START || cfg->rate_dhz == 0u ||
        cfg->max_latency_ms == 0u) {
        return OPENIMU_ERR_VALUE;
    }
    out[0] = (uint8_t)OPENIMU_FORMAT_VERSION;
    out[1] = cfg->command;
    put_u16(out + 2, cfg->rate_dhz);
    out[4] = (uint8_t)(cfg->acc_range_code | (cfg->gyr_range_code << 4));
    out[5] = cfg->max_latency_ms;
    return (int)OPENIMU_CONFIG_SIZE;
}

int openimu_decode_config(const uint8_t *data, size_t len, openimu_config *cfg)
{
    if (len != OPENIMU_CONFIG_SIZE) {
        return OPENIMU_ERR_LENGTH;
    }
    if (data[0] != OPENIMU_FORMAT_VERSION) {
        return OPENIMU_ERR_VERSION;
    }
    cfg->command = data[1];
    cfg->rate_dhz = get_u16(data + 2);
    cfg->acc_range_code = (uint8_t)(data[4] & 0x0Fu);
    cfg->gyr_range_code = (uint8_t)(data[4] >> 4);
    cfg->max_latency_ms = data[5];
    if (!ranges_valid(cfg->acc_range_code, cfg->gyr_range_code)) {
        return OPENIMU_ERR_RANGE;
    }
    if (cfg->command > OPENIMU_COMMAND_START || cfg->rate_dhz == 0u ||
        cfg->max_latency_ms == 0u) {
        return OPENIMU_ERR_VALUE;
    }
    return OPENIMU_OK;
}

static int16_t counts_from_scaled(float x)
{
    if (!(x == x)) { /* NaN */
        return 0;
    }
    if (x >= 32766.5f) {
        return 32767;
    }
    if (x <= -32767.5f) {
        return -32768;
    }
    /* round half away from zero; the range checks above keep the casts defined */
    return (int16_t)(x >= 0.0f ? (int32_t)(x + 0.5f) : -(int32_t)(-x + 0.5f));
}

int16_t openimu_acc_counts(float acc_g, uint8_t acc_range_code)
{
    if (acc_range_code >= OPENIMU_ACC_RANGE_CODES) {
        return 0;
    }
    return counts_from_scaled(acc_g * (32768.0f / (float)ACC_RANGE_G[acc_range_code]));
}

int16_t openimu_gyr_counts(float gyr_deg_s, uint8_t gyr_range_code)
{
    if (gyr_range_code >= OPENIMU_GYR_RANGE_CODES) {
        return 0;
    }
    return counts_from_scaled(gyr_deg_s * (32768.0f / (float)GYR_RANGE_DEG_S[gyr_range_code]));
}

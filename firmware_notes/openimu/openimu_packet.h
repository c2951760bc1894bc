/*
 * OpenIMU packet encoder/decoder — portable C99, no dynamic memory, no floating-point
 * formatting, explicit little-endian byte writes (runs the same on any host or MCU).
 *
 * Specification: firmware_notes/open-profile.md. The Python twin is
 * imu/ble/openimu_codec.py; tests/test_openimu_c.py compiles this file with the host C
 * compiler and checks both against tests/vectors/openimu_vectors.json.
 *
 * Part of the imu project (MIT licence).
 */
#ifndef OPENIMU_PACKET_H
#define OPENIMU_PACKET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPENIMU_FORMAT_VERSION 1u
#define OPENIMU_HEADER_SIZE 12u
#define OPENIMU_SAMPLE_SIZE 12u
#define OPENIMU_CONFIG_SIZE 6u
#define OPENIMU_ATT_HEADER_SIZE 3u   /* ATT opcode + handle in every notification */
#define OPENIMU_MAX_ATTRIBUTE_SIZE 512u
#define OPENIMU_MAX_SAMPLES 41u      /* (512 - 12) / 12 */
#define OPENIMU_MIN_MTU 27u          /* 3 + 12 + 12: one sample */
#define OPENIMU_FLAG_DEVICE_OVERRUN 0x01u
#define OPENIMU_COMMAND_STOP 0u
#define OPENIMU_COMMAND_START 1u

/* 128-bit UUIDs of the profile (base af5exxxx-f579-4cea-b679-7a7de096440c). */
#define OPENIMU_SERVICE_UUID "af5e0001-f579-4cea-b679-7a7de096440c"
#define OPENIMU_DATA_UUID "af5e0002-f579-4cea-b679-7a7de096440c"
#define OPENIMU_CONFIG_UUID "af5e0003-f579-4cea-b679-7a7de096440c"
#define OPENIMU_INFO_UUID "af5e0004-f579-4cea-b679-7a7de096440c"

/* Range codes: accelerometer +-2/4/8/16 g (0..3), gyroscope +-125/250/500/1000/2000 deg/s
 * (0..4). One wire count is full_scale / 32768. */
#define OPENIMU_ACC_RANGE_CODES 4u
#define OPENIMU_GYR_RANGE_CODES 5u

typedef enum {
    OPENIMU_OK = 0,
    OPENIMU_ERR_BUFFER = -1,  /* output buffer too small */
    OPENIMU_ERR_LENGTH = -2,  /* input length does not match its header */
    OPENIMU_ERR_VERSION = -3, /* unsupported format version */
    OPENIMU_ERR_COUNT = -4,   /* sample count 0 or above OPENIMU_MAX_SAMPLES */
    OPENIMU_ERR_RANGE = -5,   /* unknown range code */
    OPENIMU_ERR_FLAGS = -6,   /* unknown flag bits */
    OPENIMU_ERR_VALUE = -7    /* zero rate or latency, unknown command */
} openimu_status;

/* One sample in wire counts, sensor frame. */
typedef struct {
    int16_t acc[3];
    int16_t gyr[3];
} openimu_sample;

/* Header of a data notification (see open-profile.md for each field). */
typedef struct {
    uint8_t count;           /* samples that follow, 1..OPENIMU_MAX_SAMPLES */
    uint16_t sequence;       /* index of the first sample, modulo 2^16 */
    uint32_t device_time_us; /* device clock at the first sample, modulo 2^32 */
    uint8_t acc_range_code;  /* 0..3 */
    uint8_t gyr_range_code;  /* 0..4 */
    uint8_t flags;           /* OPENIMU_FLAG_* */
    uint16_t rate_dhz;       /* nominal output data rate in 0.1 Hz, > 0 */
} openimu_header;

/* Contents of the configuration characteristic. */
typedef struct {
    uint8_t command;         /* OPENIMU_COMMAND_STOP or OPENIMU_COMMAND_START */
    uint16_t rate_dhz;       /* requested output data rate in 0.1 Hz, > 0 */
    uint8_t acc_range_code;  /* 0..3 */
    uint8_t gyr_range_code;  /* 0..4 */
    uint8_t max_latency_ms;  /* 1..255: longest a sample may wait before it is sent */
} openimu_config;

/* Samples that fit one notification at ATT MTU `mtu`; 0 if not even one does. */
size_t openimu_max_samples(uint16_t mtu);

/* Encode header + hdr->count samples into out. Returns the number of bytes written
 * (OPENIMU_HEADER_SIZE + 12 * count) or a negative openimu_status. */
int openimu_encode_packet(const openimu_header *hdr, const openimu_sample *samples,
                          uint8_t *out, size_t out_size);

/* Decode a notification of `len` bytes. Fills *hdr and up to max_samples samples.
 * Returns the sample count or a negative openimu_status (OPENIMU_ERR_BUFFER if more
 * than max_samples samples). Validates exactly what the Python decoder validates. */
int openimu_decode_packet(const uint8_t *data, size_t len, openimu_header *hdr,
                          openimu_sample *samples, size_t max_samples);

/* Encode / decode the 6-byte configuration value. Return OPENIMU_CONFIG_SIZE / OK or a
 * negative openimu_status. */
int openimu_encode_config(const openimu_config *cfg, uint8_t *out, size_t out_size);
int openimu_decode_config(const uint8_t *data, size_t len, openimu_config *cfg);

/* Physical value -> wire count for a range code: rounds half away from zero and
 * saturates at -32768..32767 (values beyond the range clip). The code must be valid
 * (check with the encoder); an invalid code returns 0. */
int16_t openimu_acc_counts(float acc_g, uint8_t acc_range_code);
int16_t openimu_gyr_counts(float gyr_deg_s, uint8_t gyr_range_code);

#ifdef __cplusplus
}
#endif

#endif /* OPENIMU_PACKET_H */

/*
 * OpenIMU reference firmware for the Seeed Studio XIAO nRF52840 Sense (LSM6DS3TR-C IMU).
 *
 * Streams accelerometer + gyroscope over BLE in the OpenIMU profile
 * (firmware_notes/open-profile.md), packed by the portable encoder in
 * firmware_notes/openimu/. Build and flash: firmware_notes/xiao-nrf52840-sense/README.md.
 *
 * NOT BUILT OR RUN ON HARDWARE IN THIS PROJECT: the host-side tests cover the packet
 * encoder only. Read it as a careful starting point, and please report what you find.
 *
 * Design:
 *   - The IMU samples on its own clock into its 4 KB hardware FIFO (continuous mode,
 *     gyro + accel, 6 words per sample set), so no sample depends on loop() timing.
 *   - loop() drains complete sample sets over I2C (400 kHz), stamps them with micros(),
 *     converts chip counts to OpenIMU wire counts and batches them.
 *   - A packet is sent when it holds as many samples as the negotiated MTU allows or
 *     when its oldest sample has waited max_latency_ms.
 *   - The sequence number counts samples and also advances over samples dropped because
 *     the BLE transmit queue was full; a FIFO overflow sets the device_overrun flag.
 *
 * Part of the imu project (MIT licence).
 */
#include <Arduino.h>
#include <Wire.h>
#include <bluefruit.h>

#include <openimu_packet.h>

// ---------------------------------------------------------------------------------------
// Board (Seeed nRF52 core, variant Seeed_XIAO_nRF52840_Sense): the IMU sits on the second
// I2C bus (Wire1: P0.07 SDA, P0.27 SCL) and is powered from P1.08; the battery divider is
// read on P0.31 once P0.14 is driven LOW.
// ---------------------------------------------------------------------------------------
#ifndef PIN_LSM6DS3TR_C_POWER
#error "Select the board 'Seeed XIAO nRF52840 Sense' (FQBN Seeeduino:nrf52:xiaonRF52840Sense)"
#endif
#ifndef VBAT_ENABLE
#define VBAT_ENABLE 14
#endif

static const char OPENIMU_INFO[] =
    "profile=openimu/1;board=xiao-nrf52840-sense;imu=LSM6DS3TR-C;"
    "axes=as-marked-on-lsm6ds3trc-package;rates_hz=12.5,26,52,104,208,416;"
    "acc_ranges_g=2,4,8,16;gyr_ranges_deg_s=125,250,500,1000,2000;"
    "firmware=openimu_xiao-0.1";

// ---------------------------------------------------------------------------------------
// LSM6DS3TR-C registers (ST datasheet DocID030071, section 9)
// ---------------------------------------------------------------------------------------
static const uint8_t IMU_ADDRESS = 0x6A;
static const uint8_t REG_FIFO_CTRL3 = 0x08;   // DEC_FIFO_GYRO[5:3], DEC_FIFO_XL[2:0]
static const uint8_t REG_FIFO_CTRL4 = 0x09;   // 3rd/4th data sets: off
static const uint8_t REG_FIFO_CTRL5 = 0x0A;   // ODR_FIFO[6:3], FIFO_MODE[2:0]
static const uint8_t REG_WHO_AM_I = 0x0F;     // reads 0x6A
static const uint8_t REG_CTRL1_XL = 0x10;     // ODR_XL[7:4], FS_XL[3:2]
static const uint8_t REG_CTRL2_G = 0x11;      // ODR_G[7:4], FS_G[3:2], FS_125[1]
static const uint8_t REG_CTRL3_C = 0x12;      // BDU[6], IF_INC[2], SW_RESET[0]
static const uint8_t REG_FIFO_STATUS1 = 0x3A; // DIFF_FIFO[7:0]: unread 16-bit words
static const uint8_t REG_FIFO_STATUS2 = 0x3B; // OVER_RUN[6], FIFO_EMPTY[4], DIFF_FIFO[10:8]
static const uint8_t REG_FIFO_STATUS3 = 0x3C; // FIFO_PATTERN[7:0]: next word's position
static const uint8_t REG_FIFO_DATA_OUT_L = 0x3E;
static const uint8_t FIFO_MODE_BYPASS = 0x00;
static const uint8_t FIFO_MODE_CONTINUOUS = 0x06;
static const uint8_t WORDS_PER_SET = 6;       // gyro x,y,z then accel x,y,z
static const uint8_t SETS_PER_READ = 4;       // 48 bytes: fits the 64-byte Wire buffer

struct Rate {
  uint16_t rate_dhz;  // OpenIMU units (0.1 Hz)
  uint8_t odr_code;   // ODR_XL / ODR_G / ODR_FIFO field value
};
static const Rate RATES[] = {{125, 0x1}, {260, 0x2}, {520, 0x3},
                             {1040, 0x4}, {2080, 0x5}, {4160, 0x6}};
// FS_XL field by OpenIMU accelerometer code (+-2, 4, 8, 16 g): note the chip's order.
static const uint8_t FS_XL[OPENIMU_ACC_RANGE_CODES] = {0x0, 0x2, 0x3, 0x1};
static const float ACC_MG_PER_COUNT[OPENIMU_ACC_RANGE_CODES] = {0.061f, 0.122f, 0.244f,
                                                                0.488f};
// CTRL2_G bits [3:1] by OpenIMU gyro code (+-125 uses FS_125; then 250..2000 dps).
static const uint8_t CTRL2_G_FS[OPENIMU_GYR_RANGE_CODES] = {0x2, 0x0, 0x4, 0x8, 0xC};
static const float GYR_MDPS_PER_COUNT[OPENIMU_GYR_RANGE_CODES] = {4.375f, 8.75f, 17.5f,
                                                                  35.0f, 70.0f};

// ---------------------------------------------------------------------------------------
// BLE: UUIDs of open-profile.md, bytes in the little-endian order Bluefruit expects.
// ---------------------------------------------------------------------------------------
static const uint8_t UUID_SERVICE[16] = {0x0c, 0x44, 0x96, 0xe0, 0x7d, 0x7a, 0x79, 0xb6,
                                         0xea, 0x4c, 0x79, 0xf5, 0x01, 0x00, 0x5e, 0xaf};
static const uint8_t UUID_DATA[16] = {0x0c, 0x44, 0x96, 0xe0, 0x7d, 0x7a, 0x79, 0xb6,
                                      0xea, 0x4c, 0x79, 0xf5, 0x02, 0x00, 0x5e, 0xaf};
static const uint8_t UUID_CONFIG[16] = {0x0c, 0x44, 0x96, 0xe0, 0x7d, 0x7a, 0x79, 0xb6,
                                        0xea, 0x4c, 0x79, 0xf5, 0x03, 0x00, 0x5e, 0xaf};
static const uint8_t UUID_INFO[16] = {0x0c, 0x44, 0x96, 0xe0, 0x7d, 0x7a, 0x79, 0xb6,
                                      0xea, 0x4c, 0x79, 0xf5, 0x04, 0x00, 0x5e, 0xaf};

BLEService imuService(UUID_SERVICE);
BLECharacteristic dataChr(UUID_DATA);
BLECharacteristic configChr(UUID_CONFIG);
BLECharacteristic infoChr(UUID_INFO);
BLEDis deviceInfo;
BLEBas battery;

// ---------------------------------------------------------------------------------------
// State shared between the BLE callbacks (Bluefruit's event task) and loop().
// ---------------------------------------------------------------------------------------
// requestedConfig: written by the callbacks; activeConfig: what loop() applies and encodes
// with, copied from requestedConfig only in loop(), so a packet never mixes two configs.
static openimu_config requestedConfig = {OPENIMU_COMMAND_STOP, 1040u, 2u, 4u, 50u};
static openimu_config activeConfig = requestedConfig;
static volatile bool configChanged = false;
static volatile uint16_t connHandle = BLE_CONN_HANDLE_INVALID;

// Packet being filled by loop().
static openimu_sample pending[OPENIMU_MAX_SAMPLES];
static uint8_t pendingCount = 0;
static uint32_t pendingFirstUs = 0;    // micros() of pending[0]
static uint16_t nextSequence = 0;      // sample index of the next sample read
static uint16_t pendingSequence = 0;   // sample index of pending[0]
static bool overrunSinceLastPacket = false;
static uint32_t samplePeriodUs = 9615; // 1e7 / rate_dhz
static uint8_t packetBytes[OPENIMU_HEADER_SIZE + OPENIMU_SAMPLE_SIZE * OPENIMU_MAX_SAMPLES];
static uint32_t lastBatteryMs = 0;

// ---------------------------------------------------------------------------------------
// I2C helpers
// ---------------------------------------------------------------------------------------
static bool imuWrite(uint8_t reg, uint8_t value) {
  Wire1.beginTransmission(IMU_ADDRESS);
  Wire1.write(reg);
  Wire1.write(value);
  return Wire1.endTransmission() == 0;
}

static bool imuRead(uint8_t reg, uint8_t *out, uint8_t len) {
  Wire1.beginTransmission(IMU_ADDRESS);
  Wire1.write(reg);
  if (Wire1.endTransmission(false) != 0) {
    return false;
  }
  if (Wire1.requestFrom(IMU_ADDRESS, len) != len) {
    return false;
  }
  for (uint8_t i = 0; i < len; ++i) {
    out[i] = (uint8_t)Wire1.read();
  }
  return true;
}

static const Rate &nearestRate(uint16_t rate_dhz) {
  const Rate *best = &RATES[0];
  for (const Rate &r : RATES) {
    uint16_t d = r.rate_dhz > rate_dhz ? r.rate_dhz - rate_dhz : rate_dhz - r.rate_dhz;
    uint16_t bestD = best->rate_dhz > rate_dhz ? best->rate_dhz - rate_dhz
                                               : rate_dhz - best->rate_dhz;
    if (d < bestD) {
      best = &r;
    }
  }
  return *best;
}

static void imuPowerDown() {
  imuWrite(REG_FIFO_CTRL5, FIFO_MODE_BYPASS);
  imuWrite(REG_CTRL1_XL, 0x00);
  imuWrite(REG_CTRL2_G, 0x00);
}

// Program output data rate, ranges and the FIFO; empties the FIFO.
static bool imuStart(const openimu_config &cfg) {
  const Rate &rate = nearestRate(cfg.rate_dhz);
  bool ok = imuWrite(REG_FIFO_CTRL5, FIFO_MODE_BYPASS);  // bypass empties the FIFO
  ok = ok && imuWrite(REG_CTRL1_XL, (uint8_t)(rate.odr_code << 4 | FS_XL[cfg.acc_range_code] << 2));
  ok = ok && imuWrite(REG_CTRL2_G, (uint8_t)(rate.odr_code << 4 | CTRL2_G_FS[cfg.gyr_range_code]));
  ok = ok && imuWrite(REG_FIFO_CTRL3, 0x09);  // gyro and accel, no decimation
  ok = ok && imuWrite(REG_FIFO_CTRL4, 0x00);
  ok = ok && imuWrite(REG_FIFO_CTRL5, (uint8_t)(rate.odr_code << 3 | FIFO_MODE_CONTINUOUS));
  samplePeriodUs = (uint32_t)(10000000UL / rate.rate_dhz);
  return ok;
}

static bool imuBegin() {
  uint8_t who = 0;
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);
  // P1.08 feeds the IMU's supply: give it high drive strength (H0H1).
  NRF_P1->PIN_CNF[8] |= (GPIO_PIN_CNF_DRIVE_H0H1 << GPIO_PIN_CNF_DRIVE_Pos);
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);
  delay(20);  // turn-on time
  Wire1.begin();
  Wire1.setClock(400000);
  if (!imuRead(REG_WHO_AM_I, &who, 1) || who != 0x6A) {
    return false;
  }
  imuWrite(REG_CTRL3_C, 0x01);  // software reset
  delay(5);
  imuWrite(REG_CTRL3_C, 0x44);  // block data update, register auto-increment
  imuPowerDown();
  return true;
}

// ---------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------
static void sendPending() {
  if (pendingCount == 0) {
    return;
  }
  openimu_header hdr;
  hdr.count = pendingCount;
  hdr.sequence = pendingSequence;
  hdr.device_time_us = pendingFirstUs;
  hdr.acc_range_code = activeConfig.acc_range_code;
  hdr.gyr_range_code = activeConfig.gyr_range_code;
  hdr.flags = overrunSinceLastPacket ? OPENIMU_FLAG_DEVICE_OVERRUN : 0;
  hdr.rate_dhz = nearestRate(activeConfig.rate_dhz).rate_dhz;
  int len = openimu_encode_packet(&hdr, pending, packetBytes, sizeof packetBytes);
  // notify() fails when the transmit queue is full: those samples are dropped, and the
  // host sees the gap because the next packet's sequence skips them.
  if (len > 0 && dataChr.notify(connHandle, packetBytes, (uint16_t)len)) {
    overrunSinceLastPacket = false;
  }
  pendingCount = 0;
}

static size_t samplesPerPacket() {
  BLEConnection *conn = Bluefruit.Connection(connHandle);
  size_t n = conn ? openimu_max_samples(conn->getMtu()) : 0;
  return n;
}

// Drain complete sample sets from the IMU FIFO into packets.
static void pollImu() {
  uint8_t status[3];
  if (!imuRead(REG_FIFO_STATUS1, status, 3)) {
    return;
  }
  uint32_t readUs = micros();
  uint16_t words = (uint16_t)(status[0] | (uint16_t)(status[1] & 0x07) << 8);
  if ((status[1] & 0x40) != 0 || status[2] != 0) {
    // Overrun, or not at a set boundary (pattern != gyro x): restart the FIFO cleanly.
    overrunSinceLastPacket = true;
    imuWrite(REG_FIFO_CTRL5, FIFO_MODE_BYPASS);
    imuWrite(REG_FIFO_CTRL5, (uint8_t)(nearestRate(activeConfig.rate_dhz).odr_code << 3 |
                                       FIFO_MODE_CONTINUOUS));
    return;
  }
  uint16_t sets = words / WORDS_PER_SET;
  size_t perPacket = samplesPerPacket();
  if (perPacket == 0) {
    return;  // MTU too small (below 27): wait for the MTU exchange
  }
  const float accMg = ACC_MG_PER_COUNT[activeConfig.acc_range_code];
  const float gyrMdps = GYR_MDPS_PER_COUNT[activeConfig.gyr_range_code];
  uint16_t done = 0;
  while (done < sets) {
    uint8_t chunk = (uint8_t)(sets - done < SETS_PER_READ ? sets - done : SETS_PER_READ);
    uint8_t raw[SETS_PER_READ * WORDS_PER_SET * 2];
    // FIFO_DATA_OUT rolls over from 0x3F to 0x3E, so one burst reads several words.
    if (!imuRead(REG_FIFO_DATA_OUT_L, raw, (uint8_t)(chunk * WORDS_PER_SET * 2))) {
      return;
    }
    for (uint8_t s = 0; s < chunk; ++s, ++done) {
      const uint8_t *w = raw + s * WORDS_PER_SET * 2;
      if (pendingCount == 0) {
        // the newest set in the FIFO was sampled at about readUs
        pendingFirstUs = readUs - (uint32_t)(sets - 1 - done) * samplePeriodUs;
        pendingSequence = nextSequence;
      }
      openimu_sample &out = pending[pendingCount++];
      for (uint8_t k = 0; k < 3; ++k) {
        int16_t g = (int16_t)(w[2 * k] | w[2 * k + 1] << 8);
        int16_t a = (int16_t)(w[6 + 2 * k] | w[6 + 2 * k + 1] << 8);
        out.gyr[k] = openimu_gyr_counts(g * gyrMdps * 0.001f, activeConfig.gyr_range_code);
        out.acc[k] = openimu_acc_counts(a * accMg * 0.001f, activeConfig.acc_range_code);
      }
      ++nextSequence;
      if (pendingCount >= perPacket) {
        sendPending();
      }
    }
  }
  if (pendingCount > 0 &&
      (uint32_t)(micros() - pendingFirstUs) >= 1000UL * activeConfig.max_latency_ms) {
    sendPending();
  }
}

// ---------------------------------------------------------------------------------------
// BLE callbacks (run in Bluefruit's task: keep them short, hand work to loop())
// ---------------------------------------------------------------------------------------
static void onConfigWrite(uint16_t, BLECharacteristic *chr, uint8_t *data, uint16_t len) {
  openimu_config cfg;
  if (openimu_decode_config(data, len, &cfg) == OPENIMU_OK) {
    cfg.rate_dhz = nearestRate(cfg.rate_dhz).rate_dhz;
    requestedConfig = cfg;
    configChanged = true;
  }
  // The characteristic now holds what the central wrote: replace it with the
  // configuration that takes effect (the previous one if the write was invalid).
  uint8_t value[OPENIMU_CONFIG_SIZE];
  openimu_encode_config(&requestedConfig, value, sizeof value);
  chr->write(value, sizeof value);
}

static void onConnect(uint16_t handle) {
  BLEConnection *conn = Bluefruit.Connection(handle);
  conn->requestPHY();                // 2M PHY if the central supports it
  conn->requestDataLengthUpdate();   // 251-byte link-layer packets
  conn->requestMtuExchange(247);     // up to 19 samples per notification
  connHandle = handle;
}

static void onDisconnect(uint16_t, uint8_t) {
  connHandle = BLE_CONN_HANDLE_INVALID;
  requestedConfig.command = OPENIMU_COMMAND_STOP;
  configChanged = true;
  uint8_t value[OPENIMU_CONFIG_SIZE];
  openimu_encode_config(&requestedConfig, value, sizeof value);
  configChr.write(value, sizeof value);
}

// ---------------------------------------------------------------------------------------
// Battery: divider 1 MOhm / 510 kOhm on P0.31 (Seeed schematic), 2.4 V ADC reference.
// Keep VBAT_ENABLE LOW: driven HIGH, P0.31 sees the full cell voltage (above the
// nRF52840's 3.6 V pin limit).
// ---------------------------------------------------------------------------------------
static uint8_t batteryPercent() {
  float volts = analogRead(PIN_VBAT) * (2.4f / 4096.0f) * (1510.0f / 510.0f);
  // Linear between 3.3 V (empty under load) and 4.2 V (full): coarse, but monotonic.
  float pct = (volts - 3.3f) / (4.2f - 3.3f) * 100.0f;
  return (uint8_t)constrain(pct, 0.0f, 100.0f);
}

static void setupBle() {
  Bluefruit.configPrphBandwidth(BANDWIDTH_MAX);  // MTU 247, longer connection events
  Bluefruit.begin();
  Bluefruit.setTxPower(4);
  Bluefruit.autoConnLed(false);
  char name[16];
  uint32_t addr = NRF_FICR->DEVICEADDR[0];
  snprintf(name, sizeof name, "OpenIMU-%04X", (unsigned)(addr & 0xFFFF));
  Bluefruit.setName(name);
  Bluefruit.Periph.setConnInterval(6, 12);  // 7.5-15 ms, in 1.25 ms units
  Bluefruit.Periph.setConnectCallback(onConnect);
  Bluefruit.Periph.setDisconnectCallback(onDisconnect);

  deviceInfo.setManufacturer("imu project (DIY)");
  deviceInfo.setModel("Seeed XIAO nRF52840 Sense + LSM6DS3TR-C");
  deviceInfo.setFirmwareRev("openimu_xiao 0.1, OpenIMU format 1");
  deviceInfo.begin();
  battery.begin();
  battery.write(batteryPercent());

  imuService.begin();
  dataChr.setProperties(CHR_PROPS_NOTIFY);
  dataChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  dataChr.setMaxLen(sizeof packetBytes);
  dataChr.begin();

  configChr.setProperties(CHR_PROPS_READ | CHR_PROPS_WRITE);
  configChr.setPermission(SECMODE_OPEN, SECMODE_OPEN);
  configChr.setFixedLen(OPENIMU_CONFIG_SIZE);
  configChr.setWriteCallback(onConfigWrite);
  configChr.begin();
  uint8_t value[OPENIMU_CONFIG_SIZE];
  openimu_encode_config(&activeConfig, value, sizeof value);
  configChr.write(value, sizeof value);

  infoChr.setProperties(CHR_PROPS_READ);
  infoChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  infoChr.setFixedLen(sizeof OPENIMU_INFO - 1);
  infoChr.begin();
  infoChr.write(OPENIMU_INFO, sizeof OPENIMU_INFO - 1);

  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addService(imuService);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.setInterval(32, 244);  // 20 ms fast, 152.5 ms slow (0.625 ms units)
  Bluefruit.Advertising.setFastTimeout(30);
  Bluefruit.Advertising.start(0);
}

void setup() {
  pinMode(VBAT_ENABLE, OUTPUT);
  digitalWrite(VBAT_ENABLE, LOW);
  analogReference(AR_INTERNAL_2_4);
  analogReadResolution(12);
  if (!imuBegin()) {
    // No IMU (a XIAO without "Sense"?): blink red forever rather than advertise nonsense.
    pinMode(LED_RED, OUTPUT);
    for (;;) {
      digitalToggle(LED_RED);
      delay(250);
    }
  }
  setupBle();
}

void loop() {
  if (configChanged) {
    configChanged = false;
    activeConfig = requestedConfig;
    pendingCount = 0;
    nextSequence = 0;
    overrunSinceLastPacket = false;
    if (activeConfig.command == OPENIMU_COMMAND_START && connHandle != BLE_CONN_HANDLE_INVALID) {
      imuStart(activeConfig);
    } else {
      imuPowerDown();
    }
  }
  bool streaming = activeConfig.command == OPENIMU_COMMAND_START &&
                   connHandle != BLE_CONN_HANDLE_INVALID && dataChr.notifyEnabled(connHandle);
  if (streaming) {
    pollImu();
  }
  if (millis() - lastBatteryMs > 10000UL) {
    lastBatteryMs = millis();
    battery.notify(batteryPercent());
  }
  delay(streaming ? 2 : 20);  // FreeRTOS delay: lets the CPU sleep between polls
}

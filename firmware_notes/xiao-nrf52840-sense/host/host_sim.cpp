/*
 * Runs the OpenIMU sketch on a PC: simulated time, a simulated LSM6DS3TR-C (registers,
 * 4 KB FIFO in continuous mode, output data rate off by a chosen ppm) and a simulated
 * BLE peripheral stack that prints every notification. tests/test_firmware_host.py
 * builds and drives it; the printed packets are decoded with imu's Python codec.
 *
 *   host_sim rate_dhz=1040 acc=2 gyr=3 latency_ms=50 mtu=247 seconds=5 \
 *            fail_every=0 stall_at_s=-1 stall_s=0 odr_error_ppm=0 [config=<hex>]
 *
 * The configuration written at start is built from rate_dhz/acc/gyr/latency_ms, or
 * taken literally from config=<hex>. fail_every=k refuses every k-th notification;
 * stall_at_s/stall_s make one notify() block that long (and then fail);
 * disconnect_at_s / reconnect_at_s drop the link and later connect and start again.
 *
 * Output lines:
 *   CONFIG <hex>               configuration characteristic after the start write
 *   INFO <text>                sensor description characteristic
 *   ODR <t_ns> <period_ns>     sensor (re)configured: sample j taken at t_ns + (j+1)*period
 *   N <t_us> <hex>             a notification sent at simulated time t_us
 *   DROP <t_us> <hex>          a notification the simulated stack refused (queue full)
 *   STALL <t_us> <duration_us> notify() blocked for that long
 *   DISCONNECT <t_us>, CONNECT <t_us>  link events
 *
 * Sample j of the simulated sensor, in chip counts: gyro (j % 20000 - 10000, 7, -7),
 * accel (0, 100, 4096). Part of the imu project (MIT licence).
 */
#include <cstdlib>
#include <deque>
#include <string>

#include "Arduino.h"
#include "Wire.h"
#include "bluefruit.h"

// ---------------------------------------------------------------- simulated time ----
static uint64_t nowNs = 0;
static void advance(uint64_t ns);

uint32_t micros(void) { return (uint32_t)(nowNs / 1000u); }
uint32_t millis(void) { return (uint32_t)(nowNs / 1000000u); }
void delay(uint32_t ms) { advance((uint64_t)ms * 1000000u); }
void pinMode(uint32_t, uint32_t) {}
void digitalWrite(uint32_t, uint32_t) {}
void digitalToggle(uint32_t) {}
uint32_t analogRead(uint32_t) { return 2248u; }  // 3.9 V behind the 1M/510k divider
void analogReference(uint8_t) {}
void analogReadResolution(int) {}
static NRF_GPIO_Type p1;
static NRF_FICR_Type ficr = {{0x1234ABCDu, 0u}};
NRF_GPIO_Type *NRF_P1 = &p1;
NRF_FICR_Type *NRF_FICR = &ficr;

// ------------------------------------------------------- simulated LSM6DS3TR-C ----
namespace {

const double ODR_HZ[] = {0.0, 12.5, 26.0, 52.0, 104.0, 208.0, 416.0};
const size_t FIFO_CAPACITY_WORDS = 2048;  // 4 KB

struct FakeImu {
  uint8_t regs[128] = {};
  std::deque<uint16_t> fifo;
  bool overrun = false;
  double periodNs = 0.0;
  uint64_t odrStartNs = 0;
  uint64_t nextSample = 0;  // index j of the next sample the sensor will take
  double odrErrorPpm = 0.0;
  uint8_t pointer = 0;      // register address for the next read
  bool writing = false;
  std::vector<uint8_t> txBuffer;

  bool fifoOn() const { return (regs[0x0A] & 0x07) == 0x06; }

  void configureOdr() {
    uint8_t code = regs[0x10] >> 4;
    periodNs = code == 0 || code > 6 ? 0.0 : 1e9 / (ODR_HZ[code] * (1.0 + odrErrorPpm * 1e-6));
    odrStartNs = nowNs;
    nextSample = 0;
    printf("ODR %llu %.3f\n", (unsigned long long)odrStartNs, periodNs);
  }

  void sampleUntil(uint64_t t) {
    if (periodNs <= 0.0) {
      return;
    }
    while ((double)odrStartNs + (double)(nextSample + 1) * periodNs <= (double)t) {
      if (fifoOn()) {
        int16_t set[6] = {(int16_t)(nextSample % 20000 - 10000), 7, -7, 0, 100, 4096};
        if (fifo.size() + 6 > FIFO_CAPACITY_WORDS) {
          fifo.erase(fifo.begin(), fifo.begin() + 6);  // continuous mode overwrites
          overrun = true;
        }
        for (int16_t w : set) {
          fifo.push_back((uint16_t)w);
        }
      }
      ++nextSample;
    }
  }

  void writeReg(uint8_t reg, uint8_t value) {
    regs[reg] = value;
    if (reg == 0x12 && (value & 0x01)) {  // software reset
      memset(regs, 0, sizeof regs);
      regs[0x12] = 0x04;
      fifo.clear();
      overrun = false;
      periodNs = 0.0;
    } else if (reg == 0x10) {
      configureOdr();
    } else if (reg == 0x0A && (value & 0x07) == 0) {  // bypass mode empties the FIFO
      fifo.clear();
      overrun = false;
    }
  }

  uint8_t readReg() {
    uint8_t out = 0;
    size_t words = fifo.size();
    switch (pointer) {
      case 0x0F: out = 0x6A; break;
      case 0x3A: out = (uint8_t)(words & 0xFF); break;
      case 0x3B:
        out = (uint8_t)(((words >> 8) & 0x07) | (overrun ? 0x40 : 0) | (words == 0 ? 0x10 : 0));
        break;
      case 0x3C: out = (uint8_t)((6 - (words % 6)) % 6); break;  // pattern of next word
      case 0x3E:
      case 0x3F: {
        uint16_t w = fifo.empty() ? 0 : fifo.front();
        if (pointer == 0x3E) {
          out = (uint8_t)(w & 0xFF);
        } else {
          out = (uint8_t)(w >> 8);
          if (!fifo.empty()) {
            fifo.pop_front();
          }
          pointer = 0x3D;  // rolls over to 0x3E after the increment below
        }
        break;
      }
      default: out = regs[pointer & 0x7F]; break;
    }
    ++pointer;
    return out;
  }
};

FakeImu imu;
std::deque<uint8_t> rxBuffer;

}  // namespace

static void advance(uint64_t ns) {
  nowNs += ns;
  imu.sampleUntil(nowNs);
}

TwoWire Wire1;
void TwoWire::begin() {}
void TwoWire::setClock(uint32_t) {}
void TwoWire::beginTransmission(uint8_t) {
  imu.txBuffer.clear();
}
size_t TwoWire::write(uint8_t value) {
  imu.txBuffer.push_back(value);
  return 1;
}
uint8_t TwoWire::endTransmission(bool) {
  advance((imu.txBuffer.size() + 1) * 22500u);  // 9 bits per byte at 400 kHz
  if (imu.txBuffer.empty()) {
    return 4;
  }
  imu.pointer = imu.txBuffer[0];
  for (size_t i = 1; i < imu.txBuffer.size(); ++i) {
    imu.writeReg((uint8_t)(imu.pointer + i - 1), imu.txBuffer[i]);
  }
  return 0;
}
uint8_t TwoWire::requestFrom(uint8_t, size_t quantity) {
  advance((quantity + 1) * 22500u);
  for (size_t i = 0; i < quantity; ++i) {
    rxBuffer.push_back(imu.readReg());
  }
  return (uint8_t)quantity;
}
int TwoWire::read() {
  if (rxBuffer.empty()) {
    return -1;
  }
  int v = rxBuffer.front();
  rxBuffer.pop_front();
  return v;
}

// ------------------------------------------------------------- simulated BLE ----
static long failEvery = 0;
static long notifyCalls = 0;
static double stallAtS = -1.0;
static double stallS = 0.0;
static bool stalled = false;

static void printHex(const char *tag, const void *data, uint16_t len) {
  printf("%s %lu ", tag, (unsigned long)(nowNs / 1000u));
  for (uint16_t i = 0; i < len; ++i) {
    printf("%02x", ((const uint8_t *)data)[i]);
  }
  printf("\n");
}

BLEService::BLEService(const uint8_t *) {}
int BLEService::begin() { return 0; }
BLECharacteristic::BLECharacteristic(const uint8_t *) {}
void BLECharacteristic::setProperties(uint8_t) {}
void BLECharacteristic::setPermission(SecureMode_t, SecureMode_t) {}
void BLECharacteristic::setMaxLen(uint16_t len) { max_len = len; }
void BLECharacteristic::setFixedLen(uint16_t len) { max_len = len; }
void BLECharacteristic::setWriteCallback(write_cb_t cb) { write_cb = cb; }
int BLECharacteristic::begin() { return 0; }
uint16_t BLECharacteristic::write(const void *data, uint16_t len) {
  const uint8_t *p = (const uint8_t *)data;
  value.assign(p, p + len);
  return len;
}
bool BLECharacteristic::notify(uint16_t, const void *data, uint16_t len) {
  ++notifyCalls;
  if (len > max_len) {
    printf("ERROR notification of %u bytes exceeds the characteristic's %u\n", len, max_len);
    return false;
  }
  if (!stalled && stallAtS >= 0.0 && (double)nowNs >= stallAtS * 1e9) {
    stalled = true;  // the stack blocks, then gives up: the FIFO fills meanwhile
    printf("STALL %lu %lu\n", (unsigned long)(nowNs / 1000u), (unsigned long)(stallS * 1e6));
    advance((uint64_t)(stallS * 1e9));
    printHex("DROP", data, len);
    return false;
  }
  if (failEvery > 0 && notifyCalls % failEvery == 0) {
    printHex("DROP", data, len);
    return false;
  }
  printHex("N", data, len);
  return true;
}
bool BLECharacteristic::notifyEnabled(uint16_t) { return true; }

void BLEDis::setManufacturer(const char *) {}
void BLEDis::setModel(const char *) {}
void BLEDis::setFirmwareRev(const char *) {}
int BLEDis::begin() { return 0; }
int BLEBas::begin() { return 0; }
bool BLEBas::write(uint8_t) { return true; }
bool BLEBas::notify(uint8_t) { return true; }

static BLEConnection connection;
uint16_t BLEConnection::getMtu() { return mtu; }
bool BLEConnection::requestPHY() { return true; }
bool BLEConnection::requestDataLengthUpdate() { return true; }
bool BLEConnection::requestMtuExchange(uint16_t) { return true; }

void BLEPeriph::setConnInterval(uint16_t, uint16_t) {}
void BLEPeriph::setConnectCallback(void (*cb)(uint16_t)) { connect_cb = cb; }
void BLEPeriph::setDisconnectCallback(void (*cb)(uint16_t, uint8_t)) { disconnect_cb = cb; }
bool BLEAdvertising::addFlags(uint8_t) { return true; }
bool BLEAdvertising::addService(BLEService &) { return true; }
bool BLEAdvertising::addName() { return true; }
void BLEAdvertising::restartOnDisconnect(bool) {}
void BLEAdvertising::setInterval(uint16_t, uint16_t) {}
void BLEAdvertising::setFastTimeout(uint16_t) {}
bool BLEAdvertising::start(uint16_t) { return true; }

void AdafruitBluefruit::configPrphBandwidth(uint8_t) {}
bool AdafruitBluefruit::begin() { return true; }
bool AdafruitBluefruit::setTxPower(int8_t) { return true; }
void AdafruitBluefruit::autoConnLed(bool) {}
void AdafruitBluefruit::setName(const char *) {}
BLEConnection *AdafruitBluefruit::Connection(uint16_t handle) {
  return handle == 1 ? &connection : nullptr;
}
AdafruitBluefruit Bluefruit;

// ------------------------------------------------------------------ the sketch ----
#include "../openimu_xiao/openimu_xiao.ino"

// ------------------------------------------------------------------------ main ----
static double arg(int argc, char **argv, const char *key, double fallback) {
  size_t n = strlen(key);
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') {
      return atof(argv[i] + n + 1);
    }
  }
  return fallback;
}

int main(int argc, char **argv) {
  failEvery = (long)arg(argc, argv, "fail_every", 0);
  stallAtS = arg(argc, argv, "stall_at_s", -1.0);
  stallS = arg(argc, argv, "stall_s", 0.0);
  imu.odrErrorPpm = arg(argc, argv, "odr_error_ppm", 0.0);
  connection.mtu = (uint16_t)arg(argc, argv, "mtu", 247);
  double seconds = arg(argc, argv, "seconds", 5.0);

  setup();
  printf("INFO %.*s\n", (int)infoChr.value.size(), (const char *)infoChr.value.data());
  Bluefruit.Periph.connect_cb(1);

  openimu_config start = {OPENIMU_COMMAND_START, (uint16_t)arg(argc, argv, "rate_dhz", 1040),
                          (uint8_t)arg(argc, argv, "acc", 2), (uint8_t)arg(argc, argv, "gyr", 3),
                          (uint8_t)arg(argc, argv, "latency_ms", 50)};
  uint8_t bytes[32];
  uint16_t len = (uint16_t)openimu_encode_config(&start, bytes, sizeof bytes);
  for (int i = 1; i < argc; ++i) {  // config=<hex>: write these bytes instead
    if (strncmp(argv[i], "config=", 7) == 0) {
      len = 0;
      for (const char *h = argv[i] + 7; h[0] && h[1] && len < sizeof bytes; h += 2) {
        char pair[3] = {h[0], h[1], 0};
        bytes[len++] = (uint8_t)strtoul(pair, nullptr, 16);
      }
    }
  }
  configChr.write_cb(1, &configChr, bytes, len);
  printHex("CONFIG", configChr.value.data(), (uint16_t)configChr.value.size());

  uint64_t startNs = nowNs;
  uint64_t endNs = startNs + (uint64_t)(seconds * 1e9);
  double disconnectAtS = arg(argc, argv, "disconnect_at_s", -1.0);
  double reconnectAtS = arg(argc, argv, "reconnect_at_s", -1.0);
  while (nowNs < endNs) {
    double t = (double)(nowNs - startNs) * 1e-9;
    if (disconnectAtS >= 0.0 && t >= disconnectAtS) {
      disconnectAtS = -1.0;
      printf("DISCONNECT %lu\n", (unsigned long)(nowNs / 1000u));
      Bluefruit.Periph.disconnect_cb(1, 0x13);
    }
    if (reconnectAtS >= 0.0 && t >= reconnectAtS) {  // connect again, same start write
      reconnectAtS = -1.0;
      printf("CONNECT %lu\n", (unsigned long)(nowNs / 1000u));
      Bluefruit.Periph.connect_cb(1);
      configChr.write_cb(1, &configChr, bytes, len);
    }
    loop();
  }
  return 0;
}

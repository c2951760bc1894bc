/*
 * Host stand-in for the Bluefruit BLE API of Adafruit's nRF52 core (see Arduino.h in
 * this folder): only what the OpenIMU sketch calls, recorded by ../host_sim.cpp.
 */
#ifndef OPENIMU_HOST_BLUEFRUIT_H
#define OPENIMU_HOST_BLUEFRUIT_H

#include <vector>

#include "Arduino.h"

#define BANDWIDTH_MAX 3u
#define BLE_CONN_HANDLE_INVALID 0xFFFFu
#define BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE 0x06u

enum BleCharsProperties {
  CHR_PROPS_READ = 0x02,
  CHR_PROPS_WRITE = 0x08,
  CHR_PROPS_NOTIFY = 0x10
};
enum SecureMode_t { SECMODE_NO_ACCESS, SECMODE_OPEN };

class BLECharacteristic;
typedef void (*write_cb_t)(uint16_t conn_hdl, BLECharacteristic *chr, uint8_t *data,
                           uint16_t len);

class BLEService {
 public:
  explicit BLEService(const uint8_t uuid128[16]);
  int begin();
};

class BLECharacteristic {
 public:
  explicit BLECharacteristic(const uint8_t uuid128[16]);
  void setProperties(uint8_t props);
  void setPermission(SecureMode_t read, SecureMode_t write);
  void setMaxLen(uint16_t len);
  void setFixedLen(uint16_t len);
  void setWriteCallback(write_cb_t cb);
  int begin();
  uint16_t write(const void *data, uint16_t len);
  bool notify(uint16_t conn_hdl, const void *data, uint16_t len);
  bool notifyEnabled(uint16_t conn_hdl);

  // host simulation only
  std::vector<uint8_t> value;
  write_cb_t write_cb = nullptr;
  uint16_t max_len = 20;
};

class BLEDis {
 public:
  void setManufacturer(const char *s);
  void setModel(const char *s);
  void setFirmwareRev(const char *s);
  int begin();
};

class BLEBas {
 public:
  int begin();
  bool write(uint8_t level);
  bool notify(uint8_t level);
};

class BLEConnection {
 public:
  uint16_t getMtu();
  bool requestPHY();
  bool requestDataLengthUpdate();
  bool requestMtuExchange(uint16_t mtu);
  uint16_t mtu = 23;  // host simulation only
};

class BLEPeriph {
 public:
  void setConnInterval(uint16_t min_interval, uint16_t max_interval);
  void setConnectCallback(void (*cb)(uint16_t conn_hdl));
  void setDisconnectCallback(void (*cb)(uint16_t conn_hdl, uint8_t reason));
  void (*connect_cb)(uint16_t) = nullptr;  // host simulation only
  void (*disconnect_cb)(uint16_t, uint8_t) = nullptr;
};

class BLEAdvertising {
 public:
  bool addFlags(uint8_t flags);
  bool addService(BLEService &service);
  bool addName();
  void restartOnDisconnect(bool enable);
  void setInterval(uint16_t fast, uint16_t slow);
  void setFastTimeout(uint16_t seconds);
  bool start(uint16_t timeout);
};

class AdafruitBluefruit {
 public:
  void configPrphBandwidth(uint8_t bw);
  bool begin();
  bool setTxPower(int8_t dbm);
  void autoConnLed(bool enable);
  void setName(const char *name);
  BLEConnection *Connection(uint16_t conn_hdl);
  BLEPeriph Periph;
  BLEAdvertising Advertising;
  BLEAdvertising ScanResponse;
};

extern AdafruitBluefruit Bluefruit;

#endif

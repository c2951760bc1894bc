/* Host stand-in for the Arduino TwoWire API (see Arduino.h in this folder). */
#ifndef OPENIMU_HOST_WIRE_H
#define OPENIMU_HOST_WIRE_H

#include "Arduino.h"

class TwoWire {
 public:
  void begin();
  void setClock(uint32_t hz);
  void beginTransmission(uint8_t address);
  size_t write(uint8_t value);
  uint8_t endTransmission(bool stop = true);
  uint8_t requestFrom(uint8_t address, size_t quantity);
  int read();
};

extern TwoWire Wire1;

#endif

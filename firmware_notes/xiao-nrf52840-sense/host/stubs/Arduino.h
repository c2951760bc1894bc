/*
 * Host stand-in for the parts of the Arduino core the OpenIMU sketch uses, so that
 * tests/test_firmware_host.py can compile and run the sketch's logic on a PC against a
 * simulated LSM6DS3TR-C and BLE stack (../host_sim.cpp). Declarations mirror the
 * Seeed nRF52 core's signatures as far as the sketch needs them; this is not that core.
 */
#ifndef OPENIMU_HOST_ARDUINO_H
#define OPENIMU_HOST_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define OUTPUT 1u
#define HIGH 1u
#define LOW 0u
#define LED_RED 11u
#define PIN_VBAT 32u
#define PIN_LSM6DS3TR_C_POWER 15u
#define AR_INTERNAL_2_4 5u
#define constrain(amt, low, high) ((amt) < (low) ? (low) : ((amt) > (high) ? (high) : (amt)))

uint32_t micros(void);
uint32_t millis(void);
void delay(uint32_t ms);
void pinMode(uint32_t pin, uint32_t mode);
void digitalWrite(uint32_t pin, uint32_t value);
void digitalToggle(uint32_t pin);
uint32_t analogRead(uint32_t pin);
void analogReference(uint8_t mode);
void analogReadResolution(int bits);

struct NRF_GPIO_Type {
  uint32_t PIN_CNF[32];
};
struct NRF_FICR_Type {
  uint32_t DEVICEADDR[2];
};
extern NRF_GPIO_Type *NRF_P1;
extern NRF_FICR_Type *NRF_FICR;
#define GPIO_PIN_CNF_DRIVE_Pos 8u
#define GPIO_PIN_CNF_DRIVE_H0H1 3u

#endif

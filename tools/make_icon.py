#!/usr/bin/env python3
"""Draw the integration's icon (custom_components/storefront/brand/icon.png, 256x256 and
icon@2x.png, 512x512): a shop front with an awning and a counted person. Our own drawing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "storefront" / "brand"
TEAL, WHITE, DARK, ORANGE = (150, 136, 0), (255, 255, 255), (60, 50, 40), (40, 140, 255)


def draw(size: int) -> np.ndarray:
    s = size / 256
    image = np.zeros((size, size, 4), np.uint8)

    def p(x: float, y: float) -> tuple[int, int]:
        return round(x * s), round(y * s)

    cv2.rectangle(image, p(40, 96), p(216, 224), (*WHITE, 255), -1)  # the shop
    cv2.rectangle(image, p(40, 96), p(216, 224), (*DARK, 255), max(2, round(6 * s)))
    for i in range(6):  # striped awning
        colour = TEAL if i % 2 == 0 else WHITE
        top_left, bottom_right = p(28 + i * 33.3, 56), p(28 + (i + 1) * 33.3, 100)
        cv2.rectangle(image, top_left, bottom_right, (*colour, 255), -1)
    cv2.rectangle(image, p(28, 56), p(228, 100), (*DARK, 255), max(2, round(6 * s)))
    cv2.rectangle(image, p(60, 120), p(130, 190), (*TEAL, 255), -1)  # window
    cv2.rectangle(image, p(150, 130), p(196, 224), (*DARK, 255), -1)  # door
    cv2.circle(image, p(95, 138), round(11 * s), (*ORANGE, 255), -1, cv2.LINE_AA)  # a person
    cv2.ellipse(
        image,
        p(95, 178),
        (round(18 * s), round(26 * s)),
        0,
        180,
        360,
        (*ORANGE, 255),
        -1,
        cv2.LINE_AA,
    )
    return image


if __name__ == "__main__":
    BRAND.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(BRAND / "icon.png"), draw(256))
    cv2.imwrite(str(BRAND / "icon@2x.png"), draw(512))

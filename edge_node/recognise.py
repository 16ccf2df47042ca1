"""Which product is this? SIFT matching of a shelf crop against the owner's product photos.

Optional: only shelves whose products have a `photo` use it. A photo matches when enough of its
SIFT keypoints pair up with the crop's (Lowe's ratio test) and agree on one homography (RANSAC);
the count of agreeing pairs is the score, so an unrelated picture scores a handful at most.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .config import ShelfConfig

Image = npt.NDArray[np.uint8]
RATIO = 0.75  # Lowe's ratio test
SMALLEST_SIDE = 160  # shelf crops are upscaled to this so SIFT finds keypoints at all


@dataclass(frozen=True, slots=True)
class _Photo:
    product: str
    keypoints: tuple[cv2.KeyPoint, ...]
    descriptors: npt.NDArray[np.float32]


def _gray(image: Image) -> Image:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    side = min(gray.shape[:2])
    if 0 < side < SMALLEST_SIDE:
        scale = SMALLEST_SIDE / side
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return np.asarray(gray, dtype=np.uint8)


class ProductMatcher:
    """Owner photos of a shelf's products, ready to be matched against crops."""

    def __init__(self, photos: dict[str, Image], min_inliers: int = 12) -> None:
        self.sift = cv2.SIFT.create()
        self.matcher = cv2.BFMatcher(cv2.NORM_L2)
        self.min_inliers = min_inliers
        self.photos = []
        for product, image in photos.items():
            keypoints, descriptors = self.sift.detectAndCompute(_gray(image), None)
            if descriptors is not None and len(keypoints) >= 4:
                self.photos.append(
                    _Photo(product, tuple(keypoints), np.asarray(descriptors, np.float32))
                )

    @classmethod
    def from_config(cls, shelf: ShelfConfig) -> ProductMatcher | None:
        photos = {}
        for product in shelf.products:
            if product.photo is None:
                continue
            image = cv2.imread(product.photo)
            if image is None:
                raise ValueError(
                    f"shelves[{shelf.id}].products[{product.id}].photo: cannot read "
                    f"{product.photo}; give a JPEG or PNG file"
                )
            photos[product.id] = np.asarray(image, dtype=np.uint8)
        return cls(photos) if photos else None

    def inliers(
        self,
        photo: _Photo,
        keypoints: tuple[cv2.KeyPoint, ...],
        descriptors: npt.NDArray[np.float32],
    ) -> int:
        pairs = self.matcher.knnMatch(photo.descriptors, descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
        if len(good) < 4:
            return len(good) // 2
        src = np.array([photo.keypoints[m.queryIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
        dst = np.array([keypoints[m.trainIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
        _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
        return int(mask.sum()) if mask is not None else 0

    def scores(self, crop: Image) -> dict[str, int]:
        """Agreeing keypoint pairs per product photo."""
        keypoints, descriptors = self.sift.detectAndCompute(_gray(crop), None)
        if descriptors is None or len(keypoints) < 2:
            return {p.product: 0 for p in self.photos}
        found = np.asarray(descriptors, np.float32)
        return {p.product: self.inliers(p, tuple(keypoints), found) for p in self.photos}

    def best(self, crop: Image) -> str | None:
        """The product whose photo matches the crop, or None when none matches well enough."""
        scores = self.scores(crop)
        if not scores:
            return None
        product = max(scores, key=lambda k: scores[k])
        return product if scores[product] >= self.min_inliers else None

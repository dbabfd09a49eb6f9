#!/usr/bin/env python3
"""Checks a DICOM-SEG written by c2f against its source series and the NIfTI mask, independently of
c2f's own geometry code: pydicom reads the SEG and the source slices, numpy reads the NIfTI.

usage: check_dicom_seg.py SEG SOURCE_FOLDER NIFTI_MASK VERSION

Every SEG frame is placed by its own Image Position (Patient), Image Orientation (Patient) and
Pixel Spacing; each pixel's centre is mapped through the NIfTI affine (sform) to a voxel of the
NIfTI mask, and the two must agree everywhere (a flipped or shifted frame fails). Each frame's
referenced SOP Instance UID must be the source slice at the frame's position. Prints one line per
finding; exits 1 on the first failure."""
import gzip
import os
import struct
import sys

import numpy as np

try:
    import pydicom
except ImportError:
    print("FAIL: pydicom not found: install the Debian package python3-pydicom")
    sys.exit(1)

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def read_nifti(path):
    """NIfTI-1 voxels (x fastest) and the sform as a 4 x 4 matrix."""
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    expect(struct.unpack_from("<i", raw, 0)[0] == 348, f"{path}: not a little-endian NIfTI-1 file")
    dim = struct.unpack_from("<8h", raw, 40)
    datatype = struct.unpack_from("<h", raw, 70)[0]
    vox_offset = int(struct.unpack_from("<f", raw, 108)[0])
    slope, inter = struct.unpack_from("<2f", raw, 112)
    sform_code = struct.unpack_from("<h", raw, 254)[0]
    expect(sform_code > 0, f"{path}: no sform")
    srow = np.array(struct.unpack_from("<12f", raw, 280), dtype=np.float64).reshape(3, 4)
    affine = np.vstack([srow, [0, 0, 0, 1]])
    dtypes = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8, 512: np.uint16,
              768: np.uint32}
    expect(datatype in dtypes, f"{path}: datatype {datatype} not handled")
    nx, ny, nz = dim[1], dim[2], dim[3]
    data = np.frombuffer(raw, dtype=dtypes[datatype], count=nx * ny * nz, offset=vox_offset)
    data = data.reshape((nz, ny, nx)).transpose(2, 1, 0).astype(np.float64)  # [x, y, z]
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data * (slope or 1.0) + inter
    return data, affine


def read_source(folder):
    slices = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # not DICOM: the reader skips such files too
            continue
        if "Rows" in ds:
            slices.append(ds)
    expect(slices, f"{folder}: no DICOM images")
    return slices


def main():
    if len(sys.argv) != 5:
        fail("usage: check_dicom_seg.py SEG SOURCE_FOLDER NIFTI_MASK VERSION")
    seg_path, folder, nifti_path, version = sys.argv[1:]
    seg = pydicom.dcmread(seg_path)
    source = read_source(folder)
    first = source[0]

    # What the object is and whom it belongs to.
    expect(seg.SOPClassUID == SEG_STORAGE, f"SOP class {seg.SOPClassUID} is not Segmentation Storage")
    expect(seg.file_meta.MediaStorageSOPClassUID == SEG_STORAGE, "file meta SOP class is not Segmentation Storage")
    expect(seg.Modality == "SEG", f"modality {seg.Modality}")
    expect(seg.SegmentationType == "BINARY", f"segmentation type {seg.SegmentationType}")
    expect(seg.BitsAllocated == 1 and seg.BitsStored == 1, "binary SEG without 1-bit pixels")
    expect(seg.StudyInstanceUID == first.StudyInstanceUID, "Study Instance UID differs from the source")
    expect(seg.FrameOfReferenceUID == first.FrameOfReferenceUID, "Frame of Reference UID differs from the source")
    source_uids = {s.SOPInstanceUID for s in source}
    expect(seg.SeriesInstanceUID != first.SeriesInstanceUID, "the SEG reuses the source's Series Instance UID")
    expect(seg.SOPInstanceUID not in source_uids, "the SEG reuses a source SOP Instance UID")
    for keyword in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
                    "AccessionNumber", "ReferringPhysicianName"):
        values = {str(s.get(keyword)) for s in source if s.get(keyword) not in (None, "")}
        if len(values) > 1:
            print(f"note: the source slices disagree on {keyword}; not compared")
        elif values:
            expect(str(seg.get(keyword)) in values, f"{keyword} {seg.get(keyword)!r} differs from the source's {values}")
    series = seg.ReferencedSeriesSequence
    expect(len(series) == 1, f"{len(series)} referenced series")
    expect(series[0].SeriesInstanceUID == first.SeriesInstanceUID, "Referenced Series Sequence names another series")
    referenced = {item.ReferencedSOPInstanceUID for item in series[0].ReferencedInstanceSequence}
    expect(referenced == source_uids, "Referenced Instance Sequence is not the source series' slices")

    # The segment.
    expect(len(seg.SegmentSequence) == 1, f"{len(seg.SegmentSequence)} segments")
    segment = seg.SegmentSequence[0]
    expect(segment.SegmentNumber == 1 and segment.SegmentLabel == "Pancreas", "segment is not 1, 'Pancreas'")
    category = segment.SegmentedPropertyCategoryCodeSequence[0]
    kind = segment.SegmentedPropertyTypeCodeSequence[0]
    expect((category.CodeValue, category.CodingSchemeDesignator, category.CodeMeaning) ==
           ("123037004", "SCT", "Anatomical Structure"), f"category {category.CodeValue} {category.CodeMeaning}")
    expect((kind.CodeValue, kind.CodingSchemeDesignator, kind.CodeMeaning) == ("15776009", "SCT", "Pancreas"),
           f"type {kind.CodeValue} {kind.CodeMeaning}")
    expect(segment.SegmentAlgorithmType == "AUTOMATIC", f"algorithm type {segment.SegmentAlgorithmType}")
    expect(segment.SegmentAlgorithmName == "c2f", f"algorithm name {segment.SegmentAlgorithmName}")
    algorithm = segment.SegmentationAlgorithmIdentificationSequence[0]
    expect(algorithm.AlgorithmName == "c2f" and algorithm.AlgorithmVersion == version,
           f"algorithm {algorithm.AlgorithmName} {algorithm.AlgorithmVersion}, expected c2f {version}")
    expect(str(seg.SoftwareVersions) == version, f"software version {seg.SoftwareVersions}")

    # Frames, placed by their own position.
    shared = seg.SharedFunctionalGroupsSequence[0]
    orientation = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, dtype=np.float64)
    spacing = np.array(shared.PixelMeasuresSequence[0].PixelSpacing, dtype=np.float64)  # between rows, columns
    expect(np.allclose(orientation, np.array(first.ImageOrientationPatient, dtype=np.float64), atol=1e-6),
           "shared orientation is not the source's")
    expect(np.allclose(spacing, np.array(first.PixelSpacing, dtype=np.float64), atol=1e-6),
           "shared pixel spacing is not the source's")
    frames = seg.pixel_array
    count = int(seg.NumberOfFrames)
    if frames.ndim == 2:
        frames = frames[np.newaxis]
    expect(frames.shape == (count, seg.Rows, seg.Columns), f"pixel array {frames.shape}")
    expect((seg.Rows, seg.Columns) == (first.Rows, first.Columns), "frame size is not the source's")

    mask, affine = read_nifti(nifti_path)
    to_voxel = np.linalg.inv(affine)
    row_cos, col_cos = orientation[:3], orientation[3:]
    rows, cols = np.meshgrid(np.arange(seg.Rows), np.arange(seg.Columns), indexing="ij")
    by_position = [(np.array(s.ImagePositionPatient, dtype=np.float64), s) for s in source]
    seen_positions = set()
    foreground = 0
    for f, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
        position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, dtype=np.float64)
        expect(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 1, f"frame {f + 1}: segment")
        matches = [s for p, s in by_position if np.abs(p - position).max() < 1e-3]
        expect(len(matches) == 1, f"frame {f + 1}: {len(matches)} source slices at {position.tolist()}")
        source_image = item.DerivationImageSequence[0].SourceImageSequence[0]
        expect(source_image.ReferencedSOPInstanceUID == matches[0].SOPInstanceUID,
               f"frame {f + 1} at {position.tolist()} references {source_image.ReferencedSOPInstanceUID}, "
               f"the slice there is {matches[0].SOPInstanceUID}")
        expect(source_image.ReferencedSOPClassUID == matches[0].SOPClassUID, f"frame {f + 1}: SOP class")
        key = tuple(np.round(position, 3))
        expect(key not in seen_positions, f"two frames at {position.tolist()}")
        seen_positions.add(key)
        # Pixel (row r, column c) lies at position + c * column spacing * row cosine + r * row spacing * column cosine (LPS).
        lps = (position[None, None, :] + cols[..., None] * spacing[1] * row_cos + rows[..., None] * spacing[0] * col_cos)
        ras = lps * np.array([-1.0, -1.0, 1.0])
        ijk = np.einsum("ab,rcb->rca", to_voxel[:3, :3], ras) + to_voxel[:3, 3]
        nearest = np.round(ijk)
        expect(np.abs(ijk - nearest).max() < 0.05, f"frame {f + 1} does not lie on the NIfTI grid")
        nearest = nearest.astype(np.int64)
        inside = [(nearest[..., a] >= 0).all() and (nearest[..., a] < mask.shape[a]).all() for a in range(3)]
        expect(all(inside), f"frame {f + 1} lies outside the NIfTI volume")
        expected = mask[nearest[..., 0], nearest[..., 1], nearest[..., 2]] > 0.5
        got = frames[f] != 0
        if not np.array_equal(got, expected):
            fail(f"frame {f + 1} at {position.tolist()}: {int((got != expected).sum())} pixels differ from the "
                 f"NIfTI mask ({int(got.sum())} in the SEG, {int(expected.sum())} in the NIfTI)")
        foreground += int(got.sum())
    total = int((mask > 0.5).sum())
    expect(foreground == total, f"the frames hold {foreground} mask pixels, the NIfTI {total}: a slice is missing")
    print(f"ok: {count} frames of {len(source)} source slices, {foreground} mask pixels, every frame equal to the "
          f"NIfTI mask at its position and referencing the source slice there")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Installs c2f's build and run dependencies from Debian 12's archive. Idempotent: packages
# already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libtbb-dev          # oneTBB flow graph
  libopencv-dev       # image ops, PNG previews; its DNN module is the second CPU back end
  libopencv-contrib-dev  # ximgproc's superpixels and ml's random forests: DeepOrgan's candidate stage
  libprotobuf-dev     # sets an ONNX graph's input shape for OpenCV's DNN module
  libtorch-dev        # LibTorch (CPU) for the models
  libhdf5-dev         # HDF5 C++ API: case store, Keras weights
  libfmt-dev
  doctest-dev
  libnifti2-dev       # NIfTI-1/2
  libgdcm-dev         # DICOM; Debian's GDCM links OpenJPEG for JPEG 2000
  libdcmtk-dev        # DCMTK's dcmseg writes the DICOM-SEG
  dicom3tools         # dciodvfy: the tests validate the DICOM-SEG against the standard
  python3-pydicom     # the tests check that pydicom reads the DICOM-SEG
  libcli11-dev
  nlohmann-json3-dev  # dataset.json, c2f-info and report output
  zlib1g-dev
  python3-numpy python3-h5py   # tests check that h5py reads the case store
  python3-torch                # tests check that Python loads c2f checkpoints (examples/python)
  python3-onnx                 # c2f-models --export-onnx writes ONNX through torch.onnx
  chromium                     # the cohort report test loads OUTDIR/index.html in a real (headless) browser
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

"""Small localization files as each tool writes them (real headers), for the reader and
writer tests: the same six localizations (``RNG_XY`` nm, ``FRAMES`` numbered from 1,
``PRECISION`` nm) in every format."""

import json
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import yaml

THUNDERSTORM_HEADER = (
    '"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]",'
    '"bkgstd [photon]","uncertainty [nm]"'
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def thunderstorm_file(tmp_path: Path, n: int = 5, header: str = THUNDERSTORM_HEADER) -> Path:
    rng = np.random.default_rng(1)
    lines = [header]
    for i in range(n):
        x, y = rng.uniform(0, 2000, 2)
        lines.append(f"{i + 1},{i // 2 + 1}.0,{x},{y},120.5,900,10,5,{rng.uniform(5, 20)}")
    return write(tmp_path, "ts.csv", "\n".join(lines) + "\n")


RNG_XY = np.random.default_rng(7).uniform(100, 5000, (6, 2))  # nm
FRAMES = np.array([1, 1, 2, 3, 5, 8])
PRECISION = np.array([5.0, 7.5, 10.0, 6.0, 8.0, 9.0])  # nm
PIXEL = 130.0  # nm, Picasso/DECODE camera pixel

RAPIDSTORM_FIELD = (
    '<field identifier="{id}" syntax="floating point with . for decimals and optional '
    'scientific e-notation" semantic="{sem}" unit="{unit}" />'
)


def rapidstorm_text(unit: str = "nanometer", scale: float = 1.0) -> str:
    fields = [
        ("Position-0-0", "position in sample space in X", unit),
        ("Position-1-0", "position in sample space in Y", unit),
        ("ImageNumber-0-0", "frame number", "frame"),
        ("Amplitude-0-0", "emission strength", "A/D count"),
        ("Position-0-0-uncertainty", "position uncertainty in sample space in X", unit),
        ("Position-1-0-uncertainty", "position uncertainty in sample space in Y", unit),
    ]
    header = "".join(RAPIDSTORM_FIELD.format(id=i, sem=s, unit=u) for i, s, u in fields)
    lines = [f'# <localizations insequence="true" repetitions="variable">{header}</localizations>']
    for (x, y), f, p in zip(RNG_XY, FRAMES, PRECISION, strict=True):
        lines.append(f"{x * scale} {y * scale} {f - 1} 1234.5 {p * scale} {p * scale}")
    return "\n".join(lines) + "\n"


def nstorm_text() -> str:
    names = (
        "Channel Name\tX\tY\tXc\tYc\tHeight\tArea\tWidth\tPhi\tAx\tBG\tI\tFrame\tLength\tLink\t"
        "Valid\tZ\tZc\tPhotons\tLateral Localization Accuracy\tXw\tYw\tXwc\tYwc\tZw\tZwc"
    )
    rows = []
    for (x, y), f, p in zip(RNG_XY, FRAMES, PRECISION, strict=True):
        values = [x + 3, y - 2, x, y, 900, 4e4, 300, 0.1, 1.02, 80, 5e4, f, 1, -1, 1, 0, 0]
        values += [2000, p, x + 3, y - 2, x, y, 0, 0]
        rows.append("\t".join(["647"] + [str(v) for v in values]))
    return "\n".join([names, *rows]) + "\n"


def elyra_bytes() -> bytes:
    names = (
        "Index\tFirst Frame\tNumber Frames\tFrames Missing\tPosition X [nm]\tPosition Y [nm]\t"
        "Precision [nm]\tNumber Photons\tBackground variance\tChi square\tPSF half width [nm]\t"
        "Channel\tZ Slice"
    )
    rows = [
        f"{i + 1}\t{f}\t1\t0\t{x}\t{y}\t{p}\t850\t12.5\t1.1\t140\t1\t0"
        for i, ((x, y), f, p) in enumerate(zip(RNG_XY, FRAMES, PRECISION, strict=True))
    ]
    text = "\n".join([names, *rows]) + "\n"
    return text.encode("latin-1") + b"\x00VoxelSizeX=0.1 \xb5m\r\nmore metadata"


def smap_csv_text() -> str:
    rows = ["xnm,ynm,znm,locprecnm,locprecznm,frame,phot,bg,channel"]
    rows += [
        f"{x},{y},0,{p},30,{f},1500,20,1"
        for (x, y), f, p in zip(RNG_XY, FRAMES, PRECISION, strict=True)
    ]
    return "\n".join(rows) + "\n"


def smap_loc() -> dict[str, np.ndarray]:
    return {
        "xnm": RNG_XY[:, 0],
        "ynm": RNG_XY[:, 1],
        "frame": FRAMES.astype(float),  # MATLAB stores doubles
        "locprecnm": PRECISION,
        "phot": np.full(6, 1500.0),
    }


def write_smap_mat73(path: Path, loc: dict[str, np.ndarray]) -> Path:
    """A MATLAB v7.3 MAT-file: a 512-byte text header, then HDF5 (MATLAB stores n x 1 columns
    transposed, as 1 x n datasets)."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for key, values in loc.items():
            f.create_dataset(f"saveloc/loc/{key}", data=values[None, :])
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5"
    with path.open("r+b") as f:
        f.write(header.ljust(512, b" "))
    return path


PICASSO_DTYPE = [
    ("frame", "u4"),
    ("x", "f4"),
    ("y", "f4"),
    ("photons", "f4"),
    ("sx", "f4"),
    ("sy", "f4"),
    ("bg", "f4"),
    ("lpx", "f4"),
    ("lpy", "f4"),
    ("ellipticity", "f4"),
    ("net_gradient", "f4"),
]


def write_picasso(path: Path, info: list | None = None, locs: bool = True) -> Path:
    n = len(FRAMES)
    values = [FRAMES - 1, RNG_XY[:, 0] / PIXEL, RNG_XY[:, 1] / PIXEL, np.full(n, 3000)]
    values += [np.full(n, 1.1), np.full(n, 1.2), np.full(n, 40), PRECISION / PIXEL]
    values += [PRECISION * 1.5 / PIXEL, np.full(n, 0.1), np.full(n, 5000)]
    array = np.rec.fromarrays([np.asarray(v) for v in values], dtype=PICASSO_DTYPE)
    with h5py.File(path, "w") as f:
        f.create_dataset("locs" if locs else "drift", data=array)
    if info is None:
        info = [
            {"Byte Order": "<", "Data Type": "uint16", "Frames": 10, "Height": 64, "Width": 64},
            {"Generated by": "Picasso Localize", "Box Size": 7, "Min. Net Gradient": 5000},
            {"Generated by": "Picasso Render", "Pixelsize": PIXEL},
        ]
    path.with_suffix(".yaml").write_text(yaml.safe_dump_all(info))
    return path


def write_decode_h5(path: Path, xy_unit: str = "px") -> Path:
    scale = PIXEL if xy_unit == "px" else 1.0
    xyz = np.column_stack([RNG_XY / scale, np.zeros(6)])
    with h5py.File(path, "w") as f:
        f.create_group("meta").attrs.update({"xy_unit": xy_unit, "px_size": [PIXEL, PIXEL]})
        f.create_group("decode").attrs.update({"version": "0.10.0"})
        g = f.create_group("data")
        g.create_dataset("xyz", data=xyz)
        g.create_dataset("xyz_sig", data=np.column_stack([PRECISION / scale] * 2 + [np.ones(6)]))
        g.create_dataset("xyz_cr", data=h5py.Empty("f"))
        g.create_dataset("phot", data=np.full(6, 2000.0))
        g.create_dataset("frame_ix", data=FRAMES - 1)
        g.create_dataset("id", data=np.arange(6))
        g.create_dataset("prob", data=np.full(6, 0.9))
        g.create_dataset("bg", data=np.full(6, 30.0))
    return path


def decode_csv_text(xy_unit: str = "px") -> str:
    scale = PIXEL if xy_unit == "px" else 1.0
    meta = json.dumps({"xy_unit": xy_unit, "px_size": [PIXEL, PIXEL]})
    lines = ["# DECODE EmitterSet", '# {"version": "0.10.0"}', f"# {meta}"]
    lines.append("x,y,z,phot,frame_ix,id,prob,bg,x_cr,y_cr,z_cr,x_sig,y_sig,z_sig")
    for (x, y), f, p in zip(RNG_XY, FRAMES, PRECISION, strict=True):
        s = p / scale
        lines.append(f"{x / scale},{y / scale},0.0,2000,{f - 1},-1,0.9,30,,,,{s},{s},1.0")
    return "\n".join(lines) + "\n"


def write_mat_v7(path: Path, loc: dict[str, np.ndarray]) -> Path:
    scipy.io.savemat(path, {"saveloc": {"loc": {k: v[:, None] for k, v in loc.items()}}})
    return path


# name, writer, format, frame origin in the file, uncertainty (nm)
FORMAT_FILES = {
    "rapidstorm": (lambda p: p.write_text(rapidstorm_text()), 0, PRECISION),
    "nstorm": (lambda p: p.write_text(nstorm_text()), 1, PRECISION),
    "elyra": (lambda p: p.write_bytes(elyra_bytes()), 1, PRECISION),
    "smap": (lambda p: p.write_text(smap_csv_text()), 1, PRECISION),
    "smap_mat": (lambda p: write_mat_v7(p, smap_loc()), 1, PRECISION),
    "smap_mat73": (lambda p: write_smap_mat73(p, smap_loc()), 1, PRECISION),
    "picasso": (write_picasso, 0, PRECISION * 1.25),
    "decode": (write_decode_h5, 0, PRECISION),
    "decode_csv": (lambda p: p.write_text(decode_csv_text()), 0, PRECISION),
}


def format_file(tmp_path: Path, kind: str, name: str = "locs.dat") -> Path:
    path = tmp_path / name
    FORMAT_FILES[kind][0](path)
    return path

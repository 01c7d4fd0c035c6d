"""Market data as the platform keeps it: timeframes, candle and trade files, resampling, series health, streams.

Infrastructure that knows no database and no exchange: it works on ``elcaro.models`` types, so the
backtester, the strategy engine and the exchange adapters can all share it.
"""

from elcaro.marketdata.arrays import CandleArrays
from elcaro.marketdata.csv_io import DataFileError, read_candles, read_trades, write_candles
from elcaro.marketdata.files import CANDLE_FILE_NAME, CandleFile, candle_files
from elcaro.marketdata.gaps import Misplaced, Run, SeriesHealth, check_health
from elcaro.marketdata.resample import IncompleteBucket, Resampled, ResampledArrays, resample, resample_arrays
from elcaro.marketdata.streams import Reconnect, is_transient, reconnecting
from elcaro.models.timeframe import TIMEFRAMES, Timeframe, floor_timestamp, timeframe_ms

__all__ = [
    "CANDLE_FILE_NAME",
    "TIMEFRAMES",
    "CandleArrays",
    "CandleFile",
    "DataFileError",
    "IncompleteBucket",
    "Misplaced",
    "Reconnect",
    "Resampled",
    "ResampledArrays",
    "Run",
    "SeriesHealth",
    "Timeframe",
    "candle_files",
    "check_health",
    "floor_timestamp",
    "is_transient",
    "read_candles",
    "read_trades",
    "reconnecting",
    "resample",
    "resample_arrays",
    "timeframe_ms",
    "write_candles",
]

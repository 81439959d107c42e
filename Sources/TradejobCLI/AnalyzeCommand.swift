import ArgumentParser
import Foundation
import Cycle
import Storage
import TechnicalAnalysis
import TradingDomain

/// `tradejob analyze`: every indicator and pattern of TA-Lib's golden file, one CSV row per bar, on stdout.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Print the indicators and candlestick patterns of an OHLCV CSV (or of stored candles) as CSV.",
        discussion: "Columns: time, then those of TA-Lib's golden file in its order; an empty cell where there is no value yet.")
    @OptionGroup var options: CommonOptions
    @Option(name: .customLong("csv"), help: "OHLCV CSV (header time,open,high,low,close,volume; time RFC 3339 or epoch ms).") var csv: String?
    @Option(help: "Analyse this symbol's candles stored in the state directory instead.") var symbol: String?
    @Option(help: "Timeframe of the stored candles (default: the config's market.timeframe).") var timeframe: String?

    func validate() throws {
        guard (csv == nil) != (symbol == nil) else { throw ValidationError("give exactly one input: --csv FILE or --symbol SYMBOL") }
        if let timeframe, Timeframe(timeframe) == nil {
            throw ValidationError("--timeframe: got \"\(timeframe)\", expected one of \(Timeframe.supported.keys.sorted().joined(separator: ", "))")
        }
    }

    func run() throws {
        let series = try csv.map(Self.readCSV) ?? storedSeries()
        let output = FileHandle.standardOutput
        AnalysisCSV.write(StandardAnalysis.compute(series), times: series.time) { output.write($0) }
    }

    static func readCSV(_ path: String) throws -> OHLCVSeries {
        do {
            return try OHLCVCSV.parse(path: path)
        } catch let error as OHLCVFileUnreadable {
            throw UsageError(message: "--csv: \(error)")
        } catch let error as OHLCVParseError {
            throw InputFileError(message: "\(path): \(error)")
        }
    }

    private func storedSeries() throws -> OHLCVSeries {
        guard let symbol else { return OHLCVSeries() }
        let frame: Timeframe
        if let timeframe, let given = Timeframe(timeframe) {
            frame = given
        } else {
            frame = try CycleParameters(config: options.loadConfig()).timeframe
        }
        guard let candles = try options.readState({ ledger in try ledger.candles(symbol: Symbol(rawValue: symbol), timeframe: frame, from: .min, to: .max) }) else {
            throw UsageError(message: "--symbol: no state database at \(options.databasePath)")
        }
        guard !candles.isEmpty else {
            throw UsageError(message: "--symbol: no \(frame) candles stored for \(symbol) in \(options.databasePath)")
        }
        var series = OHLCVSeries()
        for c in candles {
            series.time.append(c.openTime)
            series.open.append(c.open)
            series.high.append(c.high)
            series.low.append(c.low)
            series.close.append(c.close)
            series.volume.append(c.volume)
        }
        return series
    }
}

/// A malformed input file named on the command line (exit 65).
struct InputFileError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Writes an analysis table as CSV in blocks: `time` (RFC 3339), indicator values as the shortest text that reads
/// back to the same `Double` (empty for no value), pattern values as integers.
enum AnalysisCSV {
    static func write(_ table: StandardAnalysis.Table, times: [Int64], to sink: (Data) -> Void) {
        var text = "time," + (table.indicators.map(\.name) + table.patterns.map(\.name)).joined(separator: ",") + "\n"
        for i in times.indices {
            text += Timestamp.rfc3339(times[i])
            for column in table.indicators {
                text += ","
                let value = column.values[i]
                if !value.isNaN { text += value.description }
            }
            for column in table.patterns {
                text += ","
                text += String(column.values[i])
            }
            text += "\n"
            if text.utf8.count > 1 << 16 {
                sink(Data(text.utf8))
                text = ""
            }
        }
        sink(Data(text.utf8))
    }
}

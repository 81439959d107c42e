extension Money {
    /// Whether `text` is a plain number: an optional leading `-`, digits with at most one `.` (at least one digit), and
    /// an optional exponent `e`/`E`, an optional sign and 1–4 digits. Nothing else: no `+` in front, no second sign,
    /// no spaces, no hexadecimal, no `inf`/`nan`. The one syntax for decimals in the configuration, its environment
    /// overrides and OHLCV CSV numbers (whatever their number of decimals or magnitude).
    public static func hasPlainNumberSyntax(_ text: String) -> Bool {
        do {
            _ = try FixedPointText.parse(text, rounding: .halfEven)
            return true
        } catch .notANumber {
            return false
        } catch {
            return true
        }
    }
}

/// How values from outside appear in error messages.
public enum MessageText {
    /// `value`, cut after 60 characters with a note of its length, so a huge value cannot flood a message.
    public static func shortened(_ value: String) -> String {
        let count = value.count
        return count <= 60 ? value : String(value.prefix(60)) + "…(\(count) characters)"
    }
}

import TradejobCLI

await Tradejob.entry()

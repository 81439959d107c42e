print("tradejob-bench: placeholder")

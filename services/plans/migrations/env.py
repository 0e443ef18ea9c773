from kamqor.db import run_env

run_env()

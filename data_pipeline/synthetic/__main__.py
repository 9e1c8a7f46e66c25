"""`python -m data_pipeline.synthetic --out DIR`: the synthetic Kaggle-layout demo dataset."""

from data_pipeline.synthetic.capuchinbird import main

main()
